// `GET /api/me` at a fixed rate, evenly spaced, from a child process of flood.mjs (its own event
// loop): the open-loop measurement, where each request's latency is what a user would see, and a
// slow answer does not slow the load down. Reports the statuses and the p50/p99 latency to the parent.
//
// Usage (through fork): paced-me.mjs <base URL> <requests per second> <seconds> <cookie header>
import { percentile, sendEvenly } from './harness.mjs';

const [baseUrl, rateText, secondsText, cookie] = process.argv.slice(2);
const { statuses, errors, latencies } = await sendEvenly({
  baseUrl,
  rate: Number(rateText),
  seconds: Number(secondsText),
  makeRequest: () => ({ path: '/api/me', headers: { cookie } }),
});
const round = (ms) => Math.round(ms * 100) / 100;
process.send({ statuses, errors, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) }, () => process.exit(0));
