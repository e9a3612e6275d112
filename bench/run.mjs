// Rampart against the raw Fastify + pg baseline, in one run, on one Postgres.
//
// The servers run as child processes; the load generator (wrk if installed, else autocannon) runs
// from here. Scenarios alternate between the servers round by round, so drift of the machine hits
// both alike; the figure is the ratio of the medians. Usage: `npm install && npm run bench` in bench/ (the repository must be built first).
// Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_ROUNDS,
// BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_CLIENT=autocannon.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { freshDatabase } from './fresh-database.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);

/**
 * Each scenario: the baseline's route and Rampart's route doing the same kind of work. `rampart` is
 * the server as deployed (LOG_LEVEL=info: one access-log line per request); `rampartQuiet` is the
 * same server with LOG_LEVEL=warn, to show what the access log costs.
 */
const SCENARIOS = [
  { name: 'liveness vs hello', baseline: '/hello', rampart: '/api/health/live', server: 'rampart' },
  { name: 'liveness vs hello, access log off', baseline: '/hello', rampart: '/api/health/live', server: 'rampartQuiet' },
];
const PORTS = { baseline: 4101, rampart: 4102, rampartQuiet: 4103 };
/** Measured on the baseline only, as the reference for scenarios later issues add. */
const BASELINE_ONLY = [{ name: 'baseline primary-key select', path: '/items/42' }];

async function prepareDatabase() {
  const url = await freshDatabase('rampart_bench');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE SCHEMA bench_baseline;
    CREATE TABLE bench_baseline.items (id int PRIMARY KEY, name text NOT NULL);
    INSERT INTO bench_baseline.items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;`);
  await client.end();
  return url;
}

/**
 * Starts a server and waits until `readyUrl` answers. Its output goes to /dev/null: still produced
 * and written (Rampart logs one line per request, as in production), but never read by this
 * process, which must keep its core for the load generator.
 */
async function startServer(name, args, env, readyUrl) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  let exitCode;
  child.on('exit', (code) => (exitCode = code));
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (exitCode !== undefined) throw new Error(`${name} exited with ${exitCode}`);
    if (await fetch(readyUrl).then((r) => r.ok, () => false)) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`${name} did not start`);
}

/**
 * The load generator. wrk (C, Debian package `wrk`) is preferred when installed: on a 2-core machine
 * autocannon (JavaScript) saturates its own core at roughly the baseline's rate, which flattens every
 * ratio towards 1. BENCH_CLIENT=autocannon forces autocannon.
 */
const useWrk = process.env.BENCH_CLIENT !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined;

function measureWithWrk(url, durationSeconds) {
  const run = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${durationSeconds}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1]);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(run.stdout);
  if (!rps || /Non-2xx|Socket errors/.test(run.stdout)) throw new Error(`${url}: ${run.stdout}${run.stderr}`);
  const toMs = { us: 0.001, ms: 1, s: 1000 };
  return { rps, p99: p99 ? Math.round(Number(p99[1]) * toMs[p99[2]] * 100) / 100 : NaN };
}

async function measure(url, durationSeconds = seconds) {
  if (useWrk) return measureWithWrk(url, durationSeconds);
  const result = await autocannon({ url, connections, duration: durationSeconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const databaseUrl = await prepareDatabase();
const dataDir = mkdtempSync(path.join(tmpdir(), 'rampart-bench-'));
const rampartCli = ['--enable-source-maps', path.join(here, '..', 'dist', 'cli', 'index.js'), 'start'];
const rampartEnv = (port, logLevel) => ({
  DATABASE_URL: databaseUrl,
  PORT: String(port),
  NODE_ENV: 'development',
  LOG_LEVEL: logLevel,
  RAMPART_DATA_DIR: dataDir,
});
const servers = {
  baseline: await startServer('baseline', [path.join(here, 'baseline.mjs')], { DATABASE_URL: databaseUrl, PORT: String(PORTS.baseline) }, `http://127.0.0.1:${PORTS.baseline}/hello`),
  rampart: await startServer('rampart', rampartCli, rampartEnv(PORTS.rampart, 'info'), `http://127.0.0.1:${PORTS.rampart}/api/health/live`),
  rampartQuiet: await startServer('rampart (quiet)', rampartCli, rampartEnv(PORTS.rampartQuiet, 'warn'), `http://127.0.0.1:${PORTS.rampartQuiet}/api/health/live`),
};
const at = (server, route) => `http://127.0.0.1:${PORTS[server]}${route}`;

try {
  const samples = new Map();
  const record = (key, value) => samples.set(key, [...(samples.get(key) ?? []), value]);
  // Warm-up: JIT, connection pools, caches. Not recorded.
  for (const scenario of SCENARIOS) {
    await measure(at('baseline', scenario.baseline), 2);
    await measure(at(scenario.server, scenario.rampart), 2);
  }
  for (let round = 1; round <= rounds; round += 1) {
    for (const scenario of SCENARIOS) {
      record(`${scenario.name}/baseline`, await measure(at('baseline', scenario.baseline)));
      record(`${scenario.name}/rampart`, await measure(at(scenario.server, scenario.rampart)));
    }
    for (const scenario of BASELINE_ONLY) record(scenario.name, await measure(at('baseline', scenario.path)));
    process.stderr.write(`round ${round}/${rounds} done\n`);
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const client = useWrk ? 'wrk, 1 thread' : 'autocannon';
  console.log(`\nMachine: ${cpus().length} × ${cpu}, Node ${process.version}; load: ${client}, ${connections} connections; ${rounds} rounds × ${seconds} s; median of rounds.\n`);
  console.log('| scenario | baseline req/s | Rampart req/s | ratio | baseline p99 ms | Rampart p99 ms |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const scenario of SCENARIOS) {
    const base = samples.get(`${scenario.name}/baseline`);
    const ours = samples.get(`${scenario.name}/rampart`);
    const baseRps = median(base.map((s) => s.rps));
    const ourRps = median(ours.map((s) => s.rps));
    console.log(
      `| ${scenario.name} (\`${scenario.rampart}\` vs \`${scenario.baseline}\`) | ${Math.round(baseRps)} | ${Math.round(ourRps)} | ${(ourRps / baseRps).toFixed(2)}× | ${median(base.map((s) => s.p99))} | ${median(ours.map((s) => s.p99))} |`,
    );
  }
  for (const scenario of BASELINE_ONLY) {
    const base = samples.get(scenario.name);
    console.log(`| ${scenario.name} (\`${scenario.path}\`) | ${Math.round(median(base.map((s) => s.rps)))} | — | — | ${median(base.map((s) => s.p99))} | — |`);
  }
} finally {
  for (const server of Object.values(servers)) server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
