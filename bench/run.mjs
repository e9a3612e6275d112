// Rampart against the raw Fastify + pg baseline, in one run, on one Postgres.
//
// The servers run as child processes; the load generator (wrk if installed, else autocannon) runs
// from here. Scenarios alternate between the servers round by round, so drift of the machine hits
// both alike; the figure is the ratio of the medians. Usage: `npm install && npm run bench` in bench/ (the repository must be built first).
// Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_ROUNDS,
// BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_CLIENT=autocannon.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { freshDatabaseWithItems } from './fresh-database.mjs';
import { createWorkspaceFor, hasWrk, machine, measureWithWrk, median, signUpAndSignIn, startBaseline, startRampart } from './harness.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);

/**
 * Each scenario: the baseline's route and Rampart's route doing the same kind of work. `rampart` is
 * the server as deployed (LOG_LEVEL=info: one access-log line per request); `rampartQuiet` is the
 * same server with LOG_LEVEL=warn, to show what the access log costs. `signedIn` scenarios send the
 * session cookie of an account created and signed in over HTTP before the first measurement. API-key
 * reads are measured by `api-keys.mjs`.
 */
const SCENARIOS = [
  { name: 'liveness vs hello', baseline: '/hello', rampart: '/api/health/live', server: 'rampart' },
  { name: 'liveness vs hello, access log off', baseline: '/hello', rampart: '/api/health/live', server: 'rampartQuiet' },
  { name: 'signed-in user vs primary-key select', baseline: '/items/42', rampart: '/api/me', server: 'rampart', signedIn: true },
  // Session read, then the workspace entered with the membership and the permission check in one
  // statement, then the member list: the cost of a workspace route.
  { name: 'workspace members vs primary-key select', baseline: '/items/42', rampart: '/api/workspaces/:ws/members', server: 'rampart', signedIn: true },
];
const PORTS = { baseline: 4101, rampart: 4102, rampartQuiet: 4103 };

/**
 * The load generator. wrk is preferred when installed: on a 2-core machine autocannon (JavaScript)
 * saturates its own core at roughly the baseline's rate, which flattens every ratio towards 1.
 * BENCH_CLIENT=autocannon forces autocannon.
 */
const useWrk = process.env.BENCH_CLIENT !== 'autocannon' && hasWrk;

async function measure(url, { durationSeconds = seconds, headers = {} } = {}) {
  if (useWrk) return measureWithWrk(url, { connections, seconds: durationSeconds, headers });
  const result = await autocannon({ url, connections, duration: durationSeconds, pipelining: 1, headers });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

const databaseUrl = await freshDatabaseWithItems('rampart_bench');
let workspaceId;
const dataDir = mkdtempSync(path.join(tmpdir(), 'rampart-bench-'));
const servers = {};
try {
  servers.baseline = await startBaseline({ databaseUrl, port: PORTS.baseline });
  servers.rampart = await startRampart('rampart', { databaseUrl, port: PORTS.rampart, logLevel: 'info', dataDir });
  servers.rampartQuiet = await startRampart('rampart (quiet)', { databaseUrl, port: PORTS.rampartQuiet, logLevel: 'warn', dataDir });
  const at = (server, route) => `http://127.0.0.1:${PORTS[server]}${route.replace(':ws', workspaceId)}`;
  const sessionHeaders = { cookie: await signUpAndSignIn(at('rampart', '')) };
  workspaceId = await createWorkspaceFor(databaseUrl, at('rampart', ''), sessionHeaders.cookie);
  const rampartHeaders = (scenario) => (scenario.signedIn ? sessionHeaders : {});

  const samples = new Map();
  const record = (key, value) => samples.set(key, [...(samples.get(key) ?? []), value]);
  // Warm-up: JIT, connection pools, caches. Not recorded.
  for (const scenario of SCENARIOS) {
    await measure(at('baseline', scenario.baseline), { durationSeconds: 2 });
    await measure(at(scenario.server, scenario.rampart), { durationSeconds: 2, headers: rampartHeaders(scenario) });
  }
  for (let round = 1; round <= rounds; round += 1) {
    for (const scenario of SCENARIOS) {
      record(`${scenario.name}/baseline`, await measure(at('baseline', scenario.baseline)));
      record(`${scenario.name}/rampart`, await measure(at(scenario.server, scenario.rampart), { headers: rampartHeaders(scenario) }));
    }
    process.stderr.write(`round ${round}/${rounds} done\n`);
  }

  const client = useWrk ? 'wrk, 1 thread' : 'autocannon';
  console.log(`\nMachine: ${machine()}; load: ${client}, ${connections} connections; ${rounds} rounds × ${seconds} s; median of rounds.\n`);
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
} finally {
  for (const server of Object.values(servers)) server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
