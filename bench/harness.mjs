// What the benchmark runners share: starting servers, starting Rampart as deployed, signing in over
// HTTP, measuring with wrk, medians.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

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

/**
 * `rampart start` from ../dist, as deployed apart from NODE_ENV=development (plain http, generated
 * keys in `dataDir`). The breached-password lookup points at a closed local port, so it fails at
 * once and sign-up falls back to the offline list, as it does when the API is unreachable.
 */
export function startRampart(name, { databaseUrl, port, logLevel, dataDir }) {
  return startServer(
    name,
    ['--enable-source-maps', path.join(here, '..', 'dist', 'cli', 'index.js'), 'start'],
    {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      NODE_ENV: 'development',
      LOG_LEVEL: logLevel,
      RAMPART_DATA_DIR: dataDir,
      HIBP_API_URL: 'http://127.0.0.1:9/',
    },
    `http://127.0.0.1:${port}/api/health/live`,
  );
}

/** Creates an account and signs in through the HTTP API; returns the `Cookie` header value of the session. */
export async function signUpAndSignIn(baseUrl) {
  const account = { email: `bench-${randomUUID()}@example.test`, password: `bench password ${randomUUID()}` };
  const post = (route, body) =>
    fetch(`${baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const signUp = await post('/api/auth/sign-up', { ...account, name: 'Bench' });
  if (signUp.status !== 202) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`);
  const signIn = await post('/api/auth/sign-in', account);
  if (signIn.status !== 200) throw new Error(`sign-in answered ${signIn.status}: ${await signIn.text()}`);
  const cookie = signIn.headers
    .getSetCookie()
    .map((header) => header.split(';')[0])
    .find((pair) => pair.startsWith('rampart_session='));
  if (cookie === undefined) throw new Error('sign-in set no rampart_session cookie');
  const me = await fetch(`${baseUrl}/api/me`, { headers: { cookie } });
  if (me.status !== 200) throw new Error(`GET /api/me with the new session answered ${me.status}`);
  return cookie;
}

/** wrk (C, Debian package `wrk`) when installed. */
export const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

/**
 * One wrk run, one thread: requests per second, p50 and p99 latency in ms. Any non-2xx answer or
 * socket error fails the run, so a broken session cannot pass for a fast one.
 */
export function measureWithWrk(url, { connections, seconds, headers = {} }) {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const run = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...headerArgs, url], { encoding: 'utf8' });
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
