// The flood, run by flood.mjs as a child process so that it has its own event loop: wrong-password
// sign-ins at a fixed overall rate, each for a new random email, so that every one gets past the
// per-(email, IP) limit and reaches the password hash queue. Reports to the parent how the requests
// were answered, then exits.
//
// Two pacings of the same rate:
// - `autocannon`: autocannon's `overallRate`. Each connection may send its share of the rate once per
//   second, and the connections' seconds start together, so the whole second's requests leave in one
//   burst at the start of each second.
// - `even`: one request every 1/rate s from a plain keep-alive HTTP client (`sendEvenly`).
//
// Usage (through fork): sign-in-flood.mjs <autocannon|even> <base URL> <requests per second> <seconds>
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { SAME_ORIGIN, sendEvenly } from './harness.mjs';

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
        headers: { 'content-type': 'application/json', ...SAME_ORIGIN },
        setupRequest: (request) => ({ ...request, body: signInBody() }),
      },
    ],
  });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]));
  return { statuses, errors: result.errors + result.timeouts };
}

async function floodEvenly() {
  const { statuses, errors } = await sendEvenly({
    baseUrl,
    rate,
    seconds,
    makeRequest: () => ({
      method: 'POST',
      path: '/api/auth/sign-in',
      headers: { 'content-type': 'application/json', ...SAME_ORIGIN },
      body: signInBody(),
    }),
  });
  return { statuses, errors };
}

const result = pacing === 'even' ? await floodEvenly() : await floodWithAutocannon();
process.send({ ...result, seconds }, () => process.exit(0));
