// Rampart against the raw Fastify + pg baseline, in one run, on one Postgres.
//
// Both servers run as child processes; autocannon runs here. Scenarios alternate between the two
// servers round by round, so drift of the machine hits both alike; the figure is the ratio of the
// medians. Usage: `npm install && npm run bench` in bench/ (the repository must be built first).
// Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_ROUNDS,
// BENCH_SECONDS, BENCH_CONNECTIONS.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);

/** Each scenario: the baseline's route and Rampart's route doing the same kind of work. */
const SCENARIOS = [{ name: 'liveness vs hello', baseline: '/hello', rampart: '/api/health/live' }];
/** Measured on the baseline only, as the reference for scenarios later issues add. */
const BASELINE_ONLY = [{ name: 'baseline primary-key select', path: '/items/42' }];

async function prepareDatabase() {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS rampart_bench WITH (FORCE)');
  await admin.query('CREATE DATABASE rampart_bench');
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = '/rampart_bench';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`CREATE SCHEMA bench_baseline;
    CREATE TABLE bench_baseline.items (id int PRIMARY KEY, name text NOT NULL);
    INSERT INTO bench_baseline.items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;`);
  await client.end();
  return url.toString();
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

async function measure(url) {
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
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
const baseline = await startServer('baseline', [path.join(here, 'baseline.mjs')], { DATABASE_URL: databaseUrl, PORT: '4101' }, 'http://127.0.0.1:4101/hello');
const rampart = await startServer(
  'rampart',
  ['--enable-source-maps', path.join(here, '..', 'dist', 'cli', 'index.js'), 'start'],
  { DATABASE_URL: databaseUrl, PORT: '4102', NODE_ENV: 'development', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', RAMPART_DATA_DIR: dataDir },
  'http://127.0.0.1:4102/api/health/live',
);

try {
  const samples = new Map();
  const record = (key, value) => samples.set(key, [...(samples.get(key) ?? []), value]);
  // Warm-up: JIT, connection pools, caches. Not recorded.
  for (const scenario of SCENARIOS) {
    await autocannon({ url: `http://127.0.0.1:4101${scenario.baseline}`, connections, duration: 2 });
    await autocannon({ url: `http://127.0.0.1:4102${scenario.rampart}`, connections, duration: 2 });
  }
  for (let round = 1; round <= rounds; round += 1) {
    for (const scenario of SCENARIOS) {
      record(`${scenario.name}/baseline`, await measure(`http://127.0.0.1:4101${scenario.baseline}`));
      record(`${scenario.name}/rampart`, await measure(`http://127.0.0.1:4102${scenario.rampart}`));
    }
    for (const scenario of BASELINE_ONLY) record(scenario.name, await measure(`http://127.0.0.1:4101${scenario.path}`));
    process.stderr.write(`round ${round}/${rounds} done\n`);
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nMachine: ${cpus().length} × ${cpu}, Node ${process.version}; ${rounds} rounds × ${seconds} s, ${connections} connections; median of rounds.\n`);
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
  baseline.kill('SIGTERM');
  rampart.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
