// A signed-in user's latency while a flood of wrong-password sign-ins runs against the same server.
//
// Rampart runs as deployed (LOG_LEVEL=info) on a fresh database. `GET /api/me` with a valid session
// is measured quiet, and while a child process (sign-in-flood.mjs) sends wrong-password sign-ins at
// a fixed rate, each for a new random email — the worst case: every one is a new (email, IP) pair, so
// none is throttled and every one asks for an argon2id verification. The flood runs twice per round:
// paced by autocannon's `overallRate` (the second's requests leave in one burst at its start) and
// evenly spaced. `GET /api/me` is measured two ways:
// - closed loop: wrk with a fixed number of connections, each sending its next request when the last
//   is answered — it saturates the machine, so it measures how the flood shares the CPU;
// - open loop: a fixed rate, evenly spaced, from a child process (paced-me.mjs) — each latency is
//   what a user sees while the service is busy but not saturated.
// The conditions alternate round by round; each figure is the median of the rounds.
// Usage: `npm run build` at the root, then `npm install && npm run bench:flood` here.
// Environment: DATABASE_URL, BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_FLOOD_RATE,
// BENCH_PACED_RATE.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from './fresh-database.mjs';
import { hasWrk, machine, measureWithWrk, median, signUpAndSignIn, startRampart } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const floodRate = Number(process.env.BENCH_FLOOD_RATE ?? 200);
const pacedRate = Number(process.env.BENCH_PACED_RATE ?? 1000);
/** The flood starts this long before the measurement (the hash queue fills) and ends this long after it. */
const floodMarginSeconds = 1;

if (!hasWrk) throw new Error('flood.mjs measures with wrk (Debian package `wrk`), which is not installed');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `measurement` while the flood, paced `pacing`, runs in a child process; returns both results. */
async function duringFlood(pacing, measurement) {
  const floodSeconds = seconds + 2 * floodMarginSeconds;
  const child = fork(path.join(here, 'sign-in-flood.mjs'), [pacing, baseUrl, String(floodRate), String(floodSeconds)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const report = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('close', (code) => reject(new Error(`the flood exited with ${code} before reporting`)));
  });
  await sleep(floodMarginSeconds * 1000);
  const measured = await measurement();
  const flood = await report;
  return { measured, flood };
}

const databaseUrl = await freshDatabase('rampart_bench_flood');
const dataDir = mkdtempSync(path.join(tmpdir(), 'rampart-bench-flood-'));
const port = 4111;
const baseUrl = `http://127.0.0.1:${port}`;
let server;
try {
  server = await startRampart('rampart', { databaseUrl, port, logLevel: 'info', dataDir });
  const headers = { cookie: await signUpAndSignIn(baseUrl) };
  const measureMe = (durationSeconds = seconds) => measureWithWrk(`${baseUrl}/api/me`, { connections, seconds: durationSeconds, headers });
  const measureMePaced = (durationSeconds = seconds) =>
    new Promise((resolve, reject) => {
      const child = fork(path.join(here, 'paced-me.mjs'), [baseUrl, String(pacedRate), String(durationSeconds), headers.cookie], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.once('message', (result) => {
        const answered = Object.entries(result.statuses);
        // Any answer but 200 (or no answer) fails the run, so a broken session cannot pass for a fast one.
        if (result.errors > 0 || answered.some(([status]) => status !== '200')) reject(new Error(`paced /api/me: ${JSON.stringify(result)}`));
        else resolve({ rps: answered.reduce((sum, [, count]) => sum + count, 0) / durationSeconds, p50: result.p50, p99: result.p99 });
      });
      child.once('close', (code) => reject(new Error(`paced /api/me exited with ${code} before reporting`)));
    });
  const MODES = [
    { name: 'closed', label: `closed loop: wrk, 1 thread, ${connections} connections (saturating)`, measure: measureMe },
    { name: 'open', label: `open loop: ${pacedRate} requests/s, evenly spaced`, measure: measureMePaced },
  ];

  // Warm-up, not recorded: JIT, the connection pool, and the dummy hash unknown emails are checked against.
  measureMe(2);
  await measureMePaced(2);
  await duringFlood('autocannon', () => measureMe(2));
  await sleep(2000);

  const CONDITIONS = [
    { name: 'quiet', label: 'quiet' },
    { name: 'autocannon', label: `flood, autocannon \`overallRate: ${floodRate}\` (one burst per second)` },
    { name: 'even', label: `flood, evenly spaced (one sign-in every ${1000 / floodRate} ms)` },
  ];
  const samples = Object.fromEntries(MODES.map((mode) => [mode.name, Object.fromEntries(CONDITIONS.map(({ name }) => [name, []]))]));
  const answers = { autocannon: {}, even: {} };
  for (let round = 1; round <= rounds; round += 1) {
    for (const mode of MODES) {
      for (const { name } of CONDITIONS) {
        if (name === 'quiet') {
          samples[mode.name].quiet.push(await mode.measure());
          continue;
        }
        const { measured, flood } = await duringFlood(name, () => mode.measure());
        samples[mode.name][name].push(measured);
        for (const [status, count] of Object.entries(flood.statuses)) answers[name][status] = (answers[name][status] ?? 0) + count;
        if (flood.errors > 0) answers[name]['no answer'] = (answers[name]['no answer'] ?? 0) + flood.errors;
        // The requests still queued when the flood stopped are answered before the next measurement.
        await sleep(2000);
      }
    }
    process.stderr.write(`round ${round}/${rounds} done\n`);
  }

  const floodSeconds = rounds * MODES.length * (seconds + 2 * floodMarginSeconds);
  console.log(
    `\nMachine: ${machine()}; flood: ${floodRate} wrong-password sign-ins/s for new random emails from a child process; ${rounds} rounds × ${seconds} s per measurement, conditions alternating; median of rounds.`,
  );
  for (const mode of MODES) {
    const med = (name, key) => Math.round(median(samples[mode.name][name].map((s) => s[key])) * 100) / 100;
    console.log(`\n\`GET /api/me\`, ${mode.label}:\n`);
    console.log('| condition | req/s | p50 ms | p99 ms | p99 / quiet p99 | p99 per round (ms) |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const { name, label } of CONDITIONS) {
      const ratio = name === 'quiet' ? '—' : `**${(med(name, 'p99') / med('quiet', 'p99')).toFixed(2)}×**`;
      console.log(
        `| ${label} | ${Math.round(med(name, 'rps'))} | ${med(name, 'p50')} | ${med(name, 'p99')} | ${ratio} | ${samples[mode.name][name].map((s) => s.p99).join(', ')} |`,
      );
    }
  }
  console.log(`\nRequired: p99 during the flood ≤ 2 × quiet p99.\n`);
  // 429 (the per-(email, IP) limit) is listed even when absent: with a new email per request it should stay 0.
  const statuses = [...new Set(['401', '429', '503', ...Object.values(answers).flatMap((counts) => Object.keys(counts))])].sort();
  console.log(`| flood answers (${floodSeconds} s of flood per pacing) | ${statuses.join(' | ')} |`);
  console.log(`|---|${statuses.map(() => '---:').join('|')}|`);
  for (const { name, label } of CONDITIONS.slice(1)) {
    const cells = statuses.map((status) => {
      const count = answers[name][status] ?? 0;
      return `${count} (${Math.round(count / floodSeconds)}/s)`;
    });
    console.log(`| ${label} | ${cells.join(' | ')} |`);
  }
} finally {
  server?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
