/**
 * Attack: account enumeration by timing. If sign-in answered faster for an unknown email (no hash to
 * check), or sign-up slower for a new one (more rows to write), an attacker could learn which
 * addresses have accounts by the clock alone. Rampart runs the same password hash against a dummy
 * for unknown emails, gives both sign-up paths the same kind of work, and sends every email after the
 * response; these tests measure both sides over many runs.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, fetchFormToken, signInRequest, strongPassword, uniqueEmail, SAME_ORIGIN } from '../fixtures/accounts.js';

/** Lets work done after a response (emails, audit writes) finish before the next measurement. */
const afterResponseWork = () => new Promise((resolve) => setTimeout(resolve, 25));

/** The medians of two interleaved series may differ by noise only: 3 ms or 10 %, whichever is larger. */
function expectSameTime(series: { a: number[]; b: number[] }, labels: [string, string]) {
  const a = median(series.a);
  const b = median(series.b);
  expect(Math.abs(a - b), `${labels[0]} ${a.toFixed(2)} ms, ${labels[1]} ${b.toFixed(2)} ms`).toBeLessThan(Math.max(3, 0.1 * Math.max(a, b)));
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe('sign-in timing', () => {
  it('takes the same time for an unknown email as for a known email with a wrong password', async () => {
    const ROUNDS = 30;
    // Two accounts, each guessed 15 times from a new address: below every limit, so every attempt hashes.
    const accounts = [await createVerifiedUser(t), await createVerifiedUser(t)];
    const known: number[] = [];
    const unknown: number[] = [];
    const time = async (email: string, address: string) => {
      const started = performance.now();
      const response = await signInRequest(t.app, email, strongPassword(), address);
      const elapsed = performance.now() - started;
      expect(response.statusCode).toBe(401);
      // The failure's audit write runs after the response; on the single-connection embedded
      // database it would otherwise slow the next request and blur the two series.
      await afterResponseWork();
      return elapsed;
    };
    // Warm-up, then interleaved so that drift in machine load affects both series alike.
    await time(uniqueEmail('warm'), '192.0.2.250');
    for (let round = 0; round < ROUNDS; round += 1) {
      unknown.push(await time(uniqueEmail('nobody'), `192.0.2.${100 + round}`));
      known.push(await time(accounts[round % 2]!.email, `192.0.2.${round}`));
    }
    expectSameTime({ a: known, b: unknown }, ['known', 'unknown']);
  });
});

describe('sign-up timing', () => {
  it('takes the same time for a registered email as for a new one', async () => {
    const ROUNDS = 20;
    const registered = await createVerifiedUser(t);
    const fresh: number[] = [];
    const existing: number[] = [];
    const time = async (email: string) => {
      const formToken = await fetchFormToken(t.app, 'sign-up');
      const started = performance.now();
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/sign-up',
        headers: SAME_ORIGIN,
        payload: { email, password: strongPassword(), name: 'Timing', formToken },
      });
      const elapsed = performance.now() - started;
      expect(response.statusCode).toBe(202);
      await afterResponseWork();
      return elapsed;
    };
    await time(uniqueEmail('warm'));
    for (let round = 0; round < ROUNDS; round += 1) {
      fresh.push(await time(uniqueEmail('fresh')));
      existing.push(await time(registered.email));
    }
    expectSameTime({ a: fresh, b: existing }, ['new email', 'registered email']);
  });
});
