/**
 * Attack: account enumeration by timing. If sign-in answered faster for an unknown email (no hash to
 * check), an attacker could learn which addresses have accounts by the clock alone. Rampart runs the
 * same password hash against a dummy for unknown emails; this test measures both over many runs.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, signInRequest, strongPassword, uniqueEmail } from '../fixtures/accounts.js';

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
      // Let the failure's audit write (done after the response) finish, so it does not slow the next
      // request on the single-connection embedded database and blur the two series.
      await new Promise((resolve) => setTimeout(resolve, 25));
      return elapsed;
    };
    // Warm-up, then interleaved so that drift in machine load affects both series alike.
    await time(uniqueEmail('warm'), '192.0.2.250');
    for (let round = 0; round < ROUNDS; round += 1) {
      unknown.push(await time(uniqueEmail('nobody'), `192.0.2.${100 + round}`));
      known.push(await time(accounts[round % 2]!.email, `192.0.2.${round}`));
    }
    const knownMedian = median(known);
    const unknownMedian = median(unknown);
    const difference = Math.abs(knownMedian - unknownMedian);
    // The hash (tens of milliseconds) dominates both; what remains must be lost in the noise.
    expect(difference, `known ${knownMedian.toFixed(2)} ms, unknown ${unknownMedian.toFixed(2)} ms`).toBeLessThan(
      Math.max(3, 0.1 * knownMedian),
    );
  });
});
