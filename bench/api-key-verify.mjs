// The CPU an API key's verification costs before the database is asked, against a bcrypt check.
//
// The verification is what the API-key guard does with a presented key: `isWellFormedApiKey` (the
// pattern and the CRC32 checksum), `hasher.candidates(key)` (an HMAC-SHA256 under each pepper: one
// by default, two during a pepper rotation or once `RAMPART_API_KEY_PEPPER` is set) and the
// constant-time check of the stored hash the lookup returns (`ApiKeyHasher.matches`). Each figure is the process's CPU time (user + system)
// over `BENCH_ITERATIONS` verifications of distinct keys, divided by their number; the median of
// `BENCH_RUNS` runs, after one run of warm-up. For contrast: bcrypt at cost 10 (`@node-rs/bcrypt`, a
// dependency of Rampart) verifying a 40-character key, the median of `BENCH_BCRYPT_RUNS` checks.
//
// Usage: `npm run build` at the root (this imports ../dist), then `npm run bench:verify` here.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateApiKey, isWellFormedApiKey } from '../dist/api-keys/key-format.js';
import { ApiKeyHasher, pepperFrom } from '../dist/api-keys/key-hasher.js';
import { machine, median } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const iterations = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const bcryptRuns = Number(process.env.BENCH_BCRYPT_RUNS ?? 20);
// The main package's copy: Rampart's own dependency, not one of the bench's.
const { hashSync, verifySync } = createRequire(path.join(here, '..', 'package.json'))('@node-rs/bcrypt');

/** 1,024 distinct well-formed keys, cycled through (so no figure is of one key kept hot). */
const keys = Array.from({ length: 1024 }, () => generateApiKey('test').key);
const onePepper = new ApiKeyHasher(pepperFrom(randomBytes(32)));
const twoPeppers = new ApiKeyHasher(pepperFrom(randomBytes(32)), [pepperFrom(randomBytes(32))]);

const cpuMicroseconds = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Median over `runs` (after a warm-up run) of the CPU µs per call of `verify(key)`. */
function perCall(verify) {
  const samples = [];
  let sink = 0;
  for (let run = 0; run <= runs; run += 1) {
    const started = cpuMicroseconds();
    for (let index = 0; index < iterations; index += 1) sink += verify(keys[index & 1023]);
    const elapsed = cpuMicroseconds() - started;
    if (run > 0) samples.push(elapsed / iterations);
  }
  if (sink === 0) throw new Error('nothing verified');
  return median(samples);
}

const candidatesCost = (hasher) => (key) => {
  const candidates = hasher.candidates(key);
  return candidates.length + candidates[0].hash.charCodeAt(0);
};

/** Everything the guard does with a key: shape and checksum, the candidates, and the constant-time check of the stored hash the lookup returns. */
const verificationCost = (hasher) => (key) => {
  if (!isWellFormedApiKey(key)) return 0;
  const candidates = hasher.candidates(key);
  return ApiKeyHasher.matches(candidates, candidates[candidates.length - 1].hash) ? 1 : 0;
};

const measured = [
  { name: '`isWellFormedApiKey` (pattern + CRC32)', figure: perCall((key) => (isWellFormedApiKey(key) ? 1 : 0)) },
  { name: '`hasher.candidates(key)`, one pepper (HMAC-SHA256)', figure: perCall(candidatesCost(onePepper)) },
  {
    name: '**verification, one pepper** (`isWellFormedApiKey` + `candidates` + `ApiKeyHasher.matches`)',
    figure: perCall(verificationCost(onePepper)),
    requirement: true,
  },
  {
    name: '**verification, two peppers** (during a rotation, or with `RAMPART_API_KEY_PEPPER` set)',
    figure: perCall(verificationCost(twoPeppers)),
    requirement: true,
  },
];

// bcrypt at cost 10 over a 40-character key: what a slow password hash would cost per request.
const bcryptKey = keys[0].slice(0, 40);
const bcryptHash = hashSync(bcryptKey, 10);
verifySync(bcryptKey, bcryptHash); // warm-up
const bcryptSamples = [];
for (let run = 0; run < bcryptRuns; run += 1) {
  const started = cpuMicroseconds();
  if (!verifySync(bcryptKey, bcryptHash)) throw new Error('bcrypt did not verify');
  bcryptSamples.push((cpuMicroseconds() - started) / 1000);
}
const bcryptMs = median(bcryptSamples);

console.log(`\nMachine: ${machine()}; ${iterations.toLocaleString('en')} verifications per run, median of ${runs} runs (after one warm-up run); CPU time (user + system).\n`);
console.log('| per verification | CPU µs | requirement ≤ 5 µs |');
console.log('|---|---:|---|');
for (const { name, figure, requirement } of measured) {
  console.log(`| ${name} | ${figure.toFixed(2)} | ${requirement ? (figure <= 5 ? 'met' : '**not met**') : ''} |`);
}
console.log(
  `| bcrypt, cost 10, \`verifySync\` of a 40-character key (median of ${bcryptRuns}) | ${(bcryptMs * 1000).toFixed(0)} (${bcryptMs.toFixed(1)} ms) | ${Math.round((bcryptMs * 1000) / measured[2].figure).toLocaleString('en')} × the one-pepper verification |`,
);
