// What the hardening stack costs: the security headers, the origin check and the per-route rate
// limits, on `GET /api/health/live` (nothing else to do) and `GET /api/me` with a session cookie (the
// signed-in read), each against the same Rampart without the stack (`serve-variant.mjs`).
//
// Four Rampart servers on one fresh database, as deployed (LOG_LEVEL=info), one at a time: without the
// stack; with the headers and the origin check but no rate limits; the full stack counting in Postgres
// (a server database without Redis); the full stack counting in Redis (`REDIS_URL`).
// Every server believes X-Forwarded-For from 127.0.0.1 (TRUST_PROXY, as behind a load balancer), and
// a wrk Lua script gives each request one of 1,000 client addresses — and, on `/api/me`, one of 20
// sessions — so the counts are spread over clients as a real load's are, not piled on one row or key.
// The limit is raised out of reach (RAMPART_RATE_LIMIT_PER_MINUTE), so every request is counted and
// none refused: what is measured is the counting. The sides take turns within each round (in reverse
// order every other round); each figure is the median of the rounds, each ratio a hardened side's
// median over the unhardened one's.
//
// Usage: `npm run build` at the root, then `npm install && npm run bench:hardening` here (wrk and
// Redis needed). Environment: DATABASE_URL, BENCH_REDIS_URL (default redis://127.0.0.1:6379),
// BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshDatabase } from './fresh-database.mjs';
import { hasWrk, machine, measureWithWrk, median, rotatingHeadersScript, signUpAndSignIn, startRampart } from './harness.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseName = 'rampart_bench_hardening';
const CLIENT_ADDRESSES = 1000;
const SESSIONS = 20;

if (!hasWrk) throw new Error('hardening.mjs measures with wrk (Debian package `wrk`), which is not installed');

const SERVERS = [
  { id: 'off', label: 'without the hardening stack', port: 4131, variant: 'off', env: {} },
  { id: 'noLimits', label: 'headers and origin check, no rate limits', port: 4134, variant: 'no-limits', env: {} },
  { id: 'postgres', label: 'full stack, counts in Postgres', port: 4132, env: {} },
  { id: 'redis', label: 'full stack, counts in Redis', port: 4133, env: { REDIS_URL: redisUrl } },
];
const ROUTES = ['/api/health/live', '/api/me'];

/** User plus system CPU seconds a process has used so far (Linux: /proc/<pid>/stat, in clock ticks of 1/100 s). */
function processCpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // After the command name: state is field 3, utime 14 and stime 15 (1-based, as proc(5) numbers them).
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / 100;
}

const addresses = Array.from({ length: CLIENT_ADDRESSES }, (_, index) => `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`);

const databaseUrl = await freshDatabase(databaseName);
const dataDir = mkdtempSync(path.join(tmpdir(), 'rampart-bench-hardening-'));
let running;
const stopRunning = async () => {
  if (running === undefined) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill('SIGTERM');
  await exited;
  running = undefined;
};
try {
  const common = {
    TRUST_PROXY: '127.0.0.1',
    RAMPART_RATE_LIMIT_PER_MINUTE: '100000',
    // One key for all four: a session made on one is valid on the others.
    RAMPART_MASTER_KEY: randomBytes(32).toString('base64'),
  };
  // One server at a time, started afresh for each measurement: a process's own luck (where the
  // scheduler puts it, what the JIT decides) moved a side's figures by 10-15 % from one start to the
  // next, more than the stack costs.
  const start = async (server) => {
    running = await startRampart(`rampart (${server.label})`, {
      databaseUrl,
      port: server.port,
      logLevel: 'info',
      dataDir,
      variant: server.variant,
      env: { ...common, ...server.env },
    });
  };
  const base = (server) => `http://127.0.0.1:${server.port}`;
  // Sign-ups on the unhardened server, whose per-address limit would not stop the twentieth.
  await start(SERVERS[0]);
  const cookies = [];
  for (let index = 0; index < SESSIONS; index += 1) cookies.push(await signUpAndSignIn(base(SERVERS[0])));
  await stopRunning();

  const scripts = {};
  for (const route of ROUTES) {
    const headerSets = addresses.map((address, index) => ({
      'X-Forwarded-For': address,
      ...(route === '/api/me' ? { Cookie: cookies[index % SESSIONS] } : {}),
    }));
    scripts[route] = path.join(dataDir, `${route.replaceAll('/', '_')}.lua`);
    writeFileSync(scripts[route], rotatingHeadersScript(headerSets), { mode: 0o600 });
  }

  const results = {};
  for (let round = 1; round <= rounds; round += 1) {
    // Every other round in reverse order, so that a drift during the round favours no side.
    for (const server of round % 2 === 0 ? [...SERVERS].reverse() : SERVERS) {
      await start(server);
      for (const route of ROUTES) {
        // A short warm-up (JIT, connection pools, prepared statements), then the measurement.
        measureWithWrk(`${base(server)}${route}`, { connections, seconds: 2, script: scripts[route] });
        const cpuBefore = processCpuSeconds(running.pid);
        const result = measureWithWrk(`${base(server)}${route}`, { connections, seconds, script: scripts[route] });
        // The server process's own CPU per request (not PostgreSQL's or Redis's): less at the mercy of
        // the scheduler than throughput, on a machine whose load generator shares the cores.
        result.cpuMicroseconds = ((processCpuSeconds(running.pid) - cpuBefore) * 1e6) / (result.rps * seconds);
        (results[`${route} ${server.id}`] ??= []).push(result);
        process.stderr.write(`round ${round} ${route} ${server.id}: ${Math.round(result.rps)} req/s, ${result.cpuMicroseconds.toFixed(1)} µs CPU/request\n`);
      }
      await stopRunning();
    }
  }

  console.log(`\n${machine()}; ${rounds} rounds of ${seconds} s, ${connections} connections, wrk -t1\n`);
  console.log('| Route | Side | req/s (median) | p50 ms | p99 ms | vs. without | server CPU µs/request (median) | vs. without |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const route of ROUTES) {
    const offRps = median(results[`${route} off`].map((result) => result.rps));
    const offCpu = median(results[`${route} off`].map((result) => result.cpuMicroseconds));
    for (const server of SERVERS) {
      const runs = results[`${route} ${server.id}`];
      const rps = median(runs.map((result) => result.rps));
      const cpu = median(runs.map((result) => result.cpuMicroseconds));
      console.log(
        `| \`${route}\` | ${server.label} | ${Math.round(rps)} | ${median(runs.map((result) => result.p50))} | ${median(runs.map((result) => result.p99))} | ${(rps / offRps).toFixed(2)} | ${cpu.toFixed(1)} | ${(cpu / offCpu).toFixed(2)} |`,
      );
    }
  }
} finally {
  await stopRunning();
  rmSync(dataDir, { recursive: true, force: true });
}
