// An API-key read against the raw baseline's primary-key select, with each of the two rate limiters,
// side by side; then the round trips of one key-authenticated read, counted.
//
// Three servers on one fresh database: the raw baseline (`/items/42`), Rampart with the database
// limiter (no REDIS_URL: the authenticating statement counts the request) and Rampart with the
// Redis limiter (REDIS_URL set: one Redis command counts it, the statement does not), both as
// deployed (LOG_LEVEL=info). Rampart's side is `GET /api/workspaces/:ws` with `Authorization: Bearer
// <key>`: one prepared statement (`rampart.api_key_authenticate`) finds the key, counts the request
// (database limiter) and returns the workspace, which is the answer. Two loads: the requests spread
// over 20 keys of the workspace (many clients, the ordinary case), and every request with one key
// (one client at thousands of requests a second: each request waits for the previous one's count);
// and `GET /api/me` with a session cookie, the signed-in read of `npm run bench`, in the same run.
// A wrk Lua script sets each request's header, for the baseline too (which ignores it), so every side
// pays the same load-generator cost. The sides alternate round by round; each figure is the median of
// the rounds, each ratio Rampart's median over the baseline's.
//
// Then, one server at a time and nothing else running against them, N requests each: PostgreSQL's
// committed transactions on the bench database (`pg_stat_database.xact_commit`; every statement sent
// outside a transaction is one) and Redis's commands (`INFO commandstats`), before and after, less
// the same figures over an idle interval of the same length (the reads of the figures themselves,
// background work). The baseline's select is counted too, as the calibration: one statement, 1.00.
//
// Usage: `npm run build` at the root, then `npm install && npm run bench:api-keys` here.
// Environment: DATABASE_URL, BENCH_REDIS_URL (default redis://127.0.0.1:6379), BENCH_ROUNDS,
// BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_COUNT_REQUESTS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freshDatabaseWithItems } from './fresh-database.mjs';
import {
  createApiKeys,
  createWorkspaceFor,
  hasWrk,
  machine,
  measureWithWrk,
  median,
  rotatingHeadersScript,
  signUpAndSignInWithCsrf,
  startRampart,
  startBaseline,
} from './harness.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const countRequests = Number(process.env.BENCH_COUNT_REQUESTS ?? 5000);
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseName = 'rampart_bench_api_keys';
const PORTS = { baseline: 4121, rampartDatabase: 4122, rampartRedis: 4123 };
/**
 * PostgreSQL 15 writes a backend's counters to the shared statistics at most once a second, and an
 * idle backend within 10 s: the figures are read after this long without requests.
 */
const STATS_SETTLE_MS = 11_000;

if (!hasWrk) throw new Error('api-keys.mjs measures with wrk (Debian package `wrk`), which is not installed');

const SIDES = [
  { id: 'baseline', label: 'baseline, primary-key select', server: 'baseline', route: '/items/42', load: 'spread' },
  { id: 'session', label: 'Rampart, `GET /api/me` with a session cookie, for comparison', server: 'rampartDatabase', route: '/api/me', load: 'session' },
  { id: 'database', label: 'Rampart, API key, database limiter, 20 keys', server: 'rampartDatabase', route: '/api/workspaces/:ws', load: 'spread' },
  { id: 'redis', label: 'Rampart, API key, Redis limiter (`REDIS_URL`), 20 keys', server: 'rampartRedis', route: '/api/workspaces/:ws', load: 'spread' },
  { id: 'databaseOneKey', label: 'Rampart, API key, database limiter, one key', server: 'rampartDatabase', route: '/api/workspaces/:ws', load: 'one' },
  { id: 'redisOneKey', label: 'Rampart, API key, Redis limiter, one key', server: 'rampartRedis', route: '/api/workspaces/:ws', load: 'one' },
];
/** Keys per side of the spread load: one a connection. */
const SPREAD_KEYS = connections;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `INFO <section>` over a plain RESP connection (no client library in the bench's dependencies). */
function redisInfo(section) {
  const { hostname, port } = new URL(redisUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port || 6379), hostname);
    let reply = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      reply = Buffer.concat([reply, chunk]);
      const header = /^\$(\d+)\r\n/.exec(reply.toString('latin1', 0, 32));
      if (reply[0] === 0x2d) {
        socket.destroy();
        reject(new Error(`redis: ${reply.toString()}`));
      } else if (header && reply.length >= header[0].length + Number(header[1]) + 2) {
        socket.destroy();
        resolve(reply.toString('utf8', header[0].length, header[0].length + Number(header[1])));
      }
    });
    socket.on('error', reject);
    socket.write(`INFO ${section}\r\n`);
  });
}

/** Redis's counts: every command processed, and the scripts called (EVALSHA or EVAL: one round trip each). */
async function redisCounts() {
  const stats = await redisInfo('stats');
  const commands = await redisInfo('commandstats');
  const calls = (name) => Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(commands)?.[1] ?? 0);
  return { total: Number(/^total_commands_processed:(\d+)/m.exec(stats)[1]), scripts: calls('evalsha') + calls('eval') };
}

/**
 * The bench database's committed and rolled-back transactions, and the connections ever opened to it:
 * a new connection commits one transaction of its own while it starts (reading the catalogs), which is
 * not a round trip of any request, so it is subtracted.
 */
async function postgresCommits(client) {
  const { rows } = await client.query(
    'SELECT xact_commit::bigint AS commits, xact_rollback::bigint AS rollbacks, sessions::bigint AS sessions FROM pg_stat_database WHERE datname = $1',
    [databaseName],
  );
  return { commits: Number(rows[0].commits), rollbacks: Number(rows[0].rollbacks), sessions: Number(rows[0].sessions) };
}

/** `count` GET requests on keep-alive connections, 10 at a time; every one must answer 200. */
async function sendRequests(url, headers, count) {
  let next = 0;
  const worker = async () => {
    for (; next < count; ) {
      next += 1;
      const response = await fetch(url, { headers });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
}

/** The database and Redis counts over `count` requests (none: the idle control), each after the counters settle. */
async function countRoundTrips(client, url, headers, count) {
  await sleep(STATS_SETTLE_MS);
  const [pgBefore, redisBefore] = [await postgresCommits(client), await redisCounts()];
  if (count > 0) await sendRequests(url, headers, count);
  await sleep(STATS_SETTLE_MS);
  const [pgAfter, redisAfter] = [await postgresCommits(client), await redisCounts()];
  return {
    commits: pgAfter.commits - pgBefore.commits,
    rollbacks: pgAfter.rollbacks - pgBefore.rollbacks,
    connections: pgAfter.sessions - pgBefore.sessions,
    redisTotal: redisAfter.total - redisBefore.total,
    redisScripts: redisAfter.scripts - redisBefore.scripts,
  };
}

await redisCounts().catch((error) => {
  throw new Error(`Redis at ${redisUrl} does not answer (${error.message}); start it or set BENCH_REDIS_URL`);
});
const databaseUrl = await freshDatabaseWithItems(databaseName);
let workspaceId;
const dataDir = mkdtempSync(path.join(tmpdir(), 'rampart-bench-api-keys-'));
const servers = {};
try {
  servers.baseline = await startBaseline({ databaseUrl, port: PORTS.baseline });
  // One data directory: the same generated master key, so the same API-key pepper for both.
  servers.rampartDatabase = await startRampart('rampart (database limiter)', { databaseUrl, port: PORTS.rampartDatabase, logLevel: 'info', dataDir });
  servers.rampartRedis = await startRampart('rampart (Redis limiter)', {
    databaseUrl,
    port: PORTS.rampartRedis,
    logLevel: 'info',
    dataDir,
    env: { REDIS_URL: redisUrl },
  });
  const at = (server, route) => `http://127.0.0.1:${PORTS[server]}${route.replace(':ws', workspaceId)}`;
  const session = await signUpAndSignInWithCsrf(at('rampartDatabase', ''));
  workspaceId = await createWorkspaceFor(databaseUrl, at('rampartDatabase', ''), session.cookie);
  // Each key may make 100,000 requests a minute: more than any side sends with it in one minute.
  const keys = await createApiKeys({ databaseUrl, baseUrl: at('rampartDatabase', ''), session, workspaceId, count: 2 * SPREAD_KEYS + 2 });
  const bearer = (key) => ({ Authorization: `Bearer ${key}` });
  const headerSetsOf = {
    baseline: keys.slice(0, SPREAD_KEYS).map(bearer), // ignored by the baseline: the same load-generator work
    session: [{ Cookie: session.cookie }],
    database: keys.slice(0, SPREAD_KEYS).map(bearer),
    redis: keys.slice(SPREAD_KEYS, 2 * SPREAD_KEYS).map(bearer),
    databaseOneKey: [bearer(keys[2 * SPREAD_KEYS])],
    redisOneKey: [bearer(keys[2 * SPREAD_KEYS + 1])],
  };
  const scriptOf = {};
  for (const side of SIDES) {
    scriptOf[side.id] = path.join(dataDir, `${side.id}.lua`);
    writeFileSync(scriptOf[side.id], rotatingHeadersScript(headerSetsOf[side.id]), { mode: 0o600 });
  }
  const headersFor = (side) => headerSetsOf[side.id][0];
  const wrkRun = (side, runSeconds) => measureWithWrk(at(side.server, side.route), { connections, seconds: runSeconds, script: scriptOf[side.id] });

  const samples = new Map(SIDES.map((side) => [side.id, []]));
  // Warm-up: JIT, connection pools, caches, the Redis connection and script. Not recorded.
  for (const side of SIDES) wrkRun(side, 2);
  for (let round = 1; round <= rounds; round += 1) {
    for (const side of SIDES) samples.get(side.id).push(wrkRun(side, seconds));
    process.stderr.write(`round ${round}/${rounds} done\n`);
  }

  process.stderr.write(`counting round trips over ${countRequests} requests per server…\n`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const counts = {};
  const counted = SIDES.filter((side) => side.load === 'spread');
  try {
    counts.idle = await countRoundTrips(client, '', {}, 0);
    for (const side of counted) counts[side.id] = await countRoundTrips(client, at(side.server, side.route), headersFor(side), countRequests);
  } finally {
    await client.end();
  }

  console.log(`\nMachine: ${machine()}; load: wrk, 1 thread, ${connections} connections; ${rounds} rounds × ${seconds} s; median of rounds.\n`);
  console.log('| `GET /api/workspaces/:ws` with an API key | req/s | ratio to the baseline | p50 ms | p99 ms | req/s per round |');
  console.log('|---|---:|---:|---:|---:|---|');
  const baseRps = median(samples.get('baseline').map((s) => s.rps));
  for (const side of SIDES) {
    const runs = samples.get(side.id);
    const rps = median(runs.map((s) => s.rps));
    const ratio = side.id === 'baseline' ? '—' : `${(rps / baseRps).toFixed(2)}×`;
    console.log(
      `| ${side.label} (\`${side.route}\`) | ${Math.round(rps)} | ${ratio} | ${median(runs.map((s) => s.p50))} | ${median(runs.map((s) => s.p99))} | ${runs.map((s) => Math.round(s.rps)).join(', ')} |`,
    );
  }

  const { idle } = counts;
  const perRequest = (value) => (value / countRequests).toFixed(3);
  console.log(
    `\nRound trips per request, over ${countRequests} requests; less an idle control over the same interval (${idle.commits} commits, ${idle.connections} connections opened, ${idle.redisScripts} Redis scripts, ${idle.redisTotal} Redis commands) and, for PostgreSQL, the one commit of each connection opened:\n`,
  );
  console.log('| server | PostgreSQL statements / request | Redis round trips / request | Redis commands, the script\'s own included / request | raw: commits, connections opened, rollbacks, Redis scripts, Redis commands |');
  console.log('|---|---:|---:|---:|---|');
  for (const side of counted) {
    const c = counts[side.id];
    const statements = c.commits - idle.commits - (c.connections - idle.connections);
    console.log(
      `| ${side.label} | ${perRequest(statements)} | ${perRequest(c.redisScripts - idle.redisScripts)} | ${perRequest(c.redisTotal - idle.redisTotal)} | ${c.commits}, ${c.connections}, ${c.rollbacks}, ${c.redisScripts}, ${c.redisTotal} |`,
    );
  }
} finally {
  for (const server of Object.values(servers)) server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
