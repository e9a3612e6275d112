// What the benchmark runners share: starting servers, starting Rampart as deployed, signing in over
// HTTP, a workspace and its API keys, measuring with wrk, medians.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * What a page on Rampart's own origin sends with a state-changing request (Fetch Metadata): sign-up,
 * sign-in and cookie requests without it are refused as cross-site.
 */
export const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

/**
 * Starts a server and waits until `readyUrl` answers. Its output goes to /dev/null: still produced
 * and written (Rampart logs one line per request, as in production), but never read by this
 * process, which must keep its core for the load generator.
 */
export async function startServer(name, args, env, readyUrl) {
  // Another server on the port (one left running by an interrupted run) would answer in its place.
  if (await fetch(readyUrl).then(() => true, () => false)) throw new Error(`${name}: ${readyUrl} already answers before the server starts`);
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

/** The raw baseline (`baseline.mjs`: Fastify + node-postgres, nothing else) on `port`. */
export function startBaseline({ databaseUrl, port }) {
  return startServer('baseline', [path.join(here, 'baseline.mjs')], { DATABASE_URL: databaseUrl, PORT: String(port) }, `http://127.0.0.1:${port}/hello`);
}

/**
 * `rampart start` from ../dist, as deployed apart from NODE_ENV=development (plain http, generated
 * keys in `dataDir`). The breached-password lookup points at a closed local port, so it fails at
 * once and sign-up falls back to the offline list, as it does when the API is unreachable. `env`
 * adds to the environment (e.g. `REDIS_URL`); `variant` serves it with part of the hardening stack
 * left out (`serve-variant.mjs`: `off` or `no-limits`), for `hardening.mjs`.
 */
export function startRampart(name, { databaseUrl, port, logLevel, dataDir, env = {}, variant }) {
  const entry = variant === undefined ? [path.join(here, '..', 'dist', 'cli', 'index.js'), 'start'] : [path.join(here, 'serve-variant.mjs')];
  return startServer(
    name,
    ['--enable-source-maps', ...entry],
    {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      NODE_ENV: 'development',
      LOG_LEVEL: logLevel,
      RAMPART_DATA_DIR: dataDir,
      HIBP_API_URL: 'http://127.0.0.1:9/',
      // The harness signs up as soon as it has the form token; a person would take longer.
      RAMPART_FORM_MIN_FILL_SECONDS: '0',
      // Every request from the one load generator is counted, none refused by the default limit
      // (routes that declare their own, sign-in for one, still refuse a flood from one address).
      RAMPART_RATE_LIMIT_PER_MINUTE: '1000000',
      ...(variant === undefined ? {} : { BENCH_VARIANT: variant }),
      ...env,
    },
    `http://127.0.0.1:${port}/api/health/live`,
  );
}

/** Creates an account and signs in through the HTTP API; returns the `Cookie` header value of the session. */
export async function signUpAndSignIn(baseUrl) {
  return (await signUpAndSignInWithCsrf(baseUrl)).cookie;
}

/**
 * The same, returning the session's `Cookie` header value and its CSRF token (the `rampart_csrf`
 * cookie's value, sent back as `x-csrf-token` on state-changing requests).
 */
export async function signUpAndSignInWithCsrf(baseUrl) {
  const account = { email: `bench-${randomUUID()}@example.test`, password: `bench password ${randomUUID()}` };
  const post = (route, body) =>
    fetch(`${baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...SAME_ORIGIN }, body: JSON.stringify(body) });
  const form = await fetch(`${baseUrl}/api/forms/sign-up/token`);
  if (form.status !== 200) throw new Error(`the sign-up form token answered ${form.status}: ${await form.text()}`);
  const { token: formToken } = await form.json();
  const signUp = await post('/api/auth/sign-up', { ...account, name: 'Bench', formToken });
  if (signUp.status !== 202) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`);
  const signIn = await post('/api/auth/sign-in', account);
  if (signIn.status !== 200) throw new Error(`sign-in answered ${signIn.status}: ${await signIn.text()}`);
  const pairs = signIn.headers.getSetCookie().map((header) => header.split(';')[0]);
  const cookie = pairs.find((pair) => pair.startsWith('rampart_session='));
  const csrfToken = pairs.find((pair) => pair.startsWith('rampart_csrf='))?.slice('rampart_csrf='.length);
  if (cookie === undefined) throw new Error('sign-in set no rampart_session cookie');
  if (csrfToken === undefined) throw new Error('sign-in set no rampart_csrf cookie');
  const me = await fetch(`${baseUrl}/api/me`, { headers: { cookie } });
  if (me.status !== 200) throw new Error(`GET /api/me with the new session answered ${me.status}`);
  return { cookie, csrfToken };
}

/**
 * A workspace with the account of `cookie` as its owner and four more members, written directly as
 * the database owner (the bench account's email is not verified, which creating a workspace through
 * the API requires). Returns its id.
 */
export async function createWorkspaceFor(databaseUrl, baseUrl, cookie) {
  const me = await (await fetch(`${baseUrl}/api/me`, { headers: { cookie } })).json();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`INSERT INTO rampart.workspaces (workspace_id, name) VALUES (gen_random_uuid(), 'Bench') RETURNING workspace_id`);
    const id = rows[0].workspace_id;
    await client.query(`INSERT INTO rampart.memberships (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`, [id, me.id]);
    await client.query(
      `WITH others AS (
         INSERT INTO rampart.users (email, name) SELECT 'bench-member-' || g || '-' || $1::text || '@example.test', 'Member ' || g
           FROM generate_series(1, 4) g RETURNING id)
       INSERT INTO rampart.memberships (workspace_id, user_id, role) SELECT $1::uuid, id, 'member' FROM others`,
      [id],
    );
    return id;
  } finally {
    await client.end();
  }
}

/**
 * Creates `count` API keys (scope `workspace:read`, 100,000 requests a minute) in the workspace over
 * HTTP, as its owner — `POST /api/workspaces/:ws/api-keys` needs a recent sign-in, so call this
 * within ten minutes of signing in. The workspace's maximum per-key limit (600 by default) is raised
 * to 100,000 first, directly as the database owner, so that no measurement meets a 429. Returns the
 * keys.
 */
export async function createApiKeys({ databaseUrl, baseUrl, session, workspaceId, count }) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('UPDATE rampart.workspaces SET api_key_rate_limit_max = 100000 WHERE workspace_id = $1', [workspaceId]);
  } finally {
    await client.end();
  }
  const keys = [];
  for (let index = 0; index < count; index += 1) {
    const response = await fetch(`${baseUrl}/api/workspaces/${workspaceId}/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...SAME_ORIGIN, cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      body: JSON.stringify({ name: `bench ${index + 1}`, scopes: ['workspace:read'], rateLimitPerMinute: 100_000 }),
    });
    if (response.status !== 201) throw new Error(`creating an API key answered ${response.status}: ${await response.text()}`);
    keys.push((await response.json()).key);
  }
  const check = await fetch(`${baseUrl}/api/workspaces/${workspaceId}`, { headers: { authorization: `Bearer ${keys[0]}` } });
  if (check.status !== 200) throw new Error(`GET /api/workspaces/:ws with a new key answered ${check.status}: ${await check.text()}`);
  return keys;
}

/**
 * A wrk script sending each request with the next of `headerSets`, in turn. The requests are
 * formatted once, in `init`: per request the script only hands wrk the next one, so the load
 * generator's cost is the same for every side, the baseline's included.
 */
export function rotatingHeadersScript(headerSets) {
  const tables = headerSets.map((headers) => `{ ${Object.entries(headers).map(([name, value]) => `["${name}"] = "${value}"`).join(', ')} }`);
  return `local header_sets = { ${tables.join(', ')} }
local requests = {}
local next_request = 0
init = function(args)
  for index, headers in ipairs(header_sets) do requests[index] = wrk.format(nil, nil, headers) end
end
request = function()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
`;
}

/** wrk (C, Debian package `wrk`) when installed. */
export const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

/**
 * One wrk run, one thread: requests per second, p50 and p99 latency in ms. Any non-2xx answer or
 * socket error fails the run, so a broken session cannot pass for a fast one. `script` is a wrk Lua
 * script (e.g. one that sets each request's headers).
 */
export function measureWithWrk(url, { connections, seconds, headers = {}, script }) {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const scriptArgs = script === undefined ? [] : ['-s', script];
  const run = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...headerArgs, ...scriptArgs, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1]);
  if (!rps || /Non-2xx|Socket errors/.test(run.stdout)) throw new Error(`${url}: ${run.stdout}${run.stderr}`);
  const toMs = { us: 0.001, ms: 1, s: 1000 };
  const percentile = (label) => {
    const match = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(run.stdout);
    return match ? Math.round(Number(match[1]) * toMs[match[2]] * 100) / 100 : NaN;
  };
  return { rps, p50: percentile(50), p99: percentile(99) };
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** "2 × <CPU model>, Node vX": the first half of every table's machine line. */
export const machine = () => `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;

/**
 * Sends requests at a fixed rate, evenly spaced (one every 1/rate s, as many in flight as needed), on
 * keep-alive connections: an open-loop load, where a slow answer does not hold back the next request.
 * Returns the count of each status, socket errors, and each answered request's latency in ms.
 * `makeRequest()` returns `{ method, path, headers, body }` for each request.
 */
export async function sendEvenly({ baseUrl, rate, seconds, makeRequest }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 500 });
  const { hostname, port } = new URL(baseUrl);
  const statuses = {};
  const latencies = [];
  let errors = 0;
  const inFlight = new Set();
  const send = () => {
    const { method = 'GET', path: requestPath, headers = {}, body } = makeRequest();
    const sentAt = performance.now();
    const answered = new Promise((resolve) => {
      const request = http.request(
        {
          hostname,
          port,
          path: requestPath,
          method,
          agent,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            latencies.push(performance.now() - sentAt);
            statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
            resolve();
          });
        },
      );
      request.on('error', () => {
        errors += 1;
        resolve();
      });
      request.end(body);
    });
    inFlight.add(answered);
    void answered.then(() => inFlight.delete(answered));
  };
  const started = performance.now();
  const total = rate * seconds;
  let sent = 0;
  // Timers are not precise to a few ms: each tick sends however many requests are due by now.
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent += 1) send();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { statuses, errors, latencies };
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};
