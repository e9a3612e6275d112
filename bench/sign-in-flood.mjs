// The flood, run by flood.mjs as a child process so that it has its own event loop: wrong-password
// sign-ins at a fixed overall rate, each for a new random email, so that every one gets past the
// per-(email, IP) limit and reaches the password hash queue. Reports to the parent how the requests
// were answered, then exits.
//
// Two pacings of the same rate:
// - `autocannon`: autocannon's `overallRate`. Each connection may send its share of the rate once per
//   second, and the connections' seconds start together, so the whole second's requests leave in one
//   burst at the start of each second.
// - `even`: one request every 1/rate s from a plain keep-alive HTTP client, as many in flight as needed.
//
// Usage (through fork): sign-in-flood.mjs <autocannon|even> <base URL> <requests per second> <seconds>
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';

const [pacing, baseUrl, rateText, secondsText] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const signInBody = () => JSON.stringify({ email: `flood-${randomUUID()}@example.test`, password: 'not the password at all' });

async function floodWithAutocannon() {
  const result = await autocannon({
    url: baseUrl,
    overallRate: rate,
    // Enough that a request waiting in the hash queue does not hold the rate back.
    connections: 100,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/api/auth/sign-in',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: signInBody() }),
      },
    ],
  });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]));
  return { statuses, errors: result.errors + result.timeouts };
}

async function floodEvenly() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 500 });
  const { hostname, port } = new URL(baseUrl);
  const statuses = {};
  let errors = 0;
  let sent = 0;
  const inFlight = new Set();
  const send = () => {
    const body = signInBody();
    const answered = new Promise((resolve) => {
      const request = http.request(
        {
          hostname,
          port,
          path: '/api/auth/sign-in',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
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
  // Timers are not precise to a few ms: each tick sends however many requests are due by now.
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent += 1) send();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { statuses, errors };
}

const result = pacing === 'even' ? await floodEvenly() : await floodWithAutocannon();
process.send({ ...result, seconds }, () => process.exit(0));
