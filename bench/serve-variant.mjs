// Rampart as `rampart start` serves it, with part of the hardening stack left out, for `hardening.mjs`
// (never for serving anyone): BENCH_VARIANT=off serves without the security headers, the origin check
// and the per-route rate limits; BENCH_VARIANT=no-limits without the per-route rate limits only.
import { parseConfig } from '../dist/server/config.js';
import { createLogger } from '../dist/server/logger.js';
import { startServer } from '../dist/server/start.js';

const variants = { off: { withoutHardening: true }, 'no-limits': { limitRouteRates: false } };
const appOptions = variants[process.env.BENCH_VARIANT];
if (appOptions === undefined) throw new Error(`BENCH_VARIANT must be one of ${Object.keys(variants).join(', ')}`);
const parsed = parseConfig(process.env);
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const logger = createLogger({ level: parsed.config.logLevel });
const { app } = await startServer(parsed.config, logger, appOptions);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
