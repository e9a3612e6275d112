import { describe, expect, it } from 'vitest';
import { AppError } from '../server/errors.js';
import { PasswordWorkQueue } from './password-work-queue.js';

/** A piece of work that runs until released, recording how many run at the same time. */
function gatedWork(state: { running: number; peak: number }) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const work = async () => {
    state.running += 1;
    state.peak = Math.max(state.peak, state.running);
    await gate;
    state.running -= 1;
    return 'done';
  };
  return { work, release };
}

describe('PasswordWorkQueue', () => {
  it('never runs more than its concurrency at once', async () => {
    const queue = new PasswordWorkQueue({ concurrency: 2, maxWaiting: 10 });
    const state = { running: 0, peak: 0 };
    const jobs = Array.from({ length: 6 }, () => gatedWork(state));
    const results = jobs.map((job) => queue.run(job.work));
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.running).toBe(2);
    for (const job of jobs) job.release();
    expect(await Promise.all(results)).toEqual(Array(6).fill('done'));
    expect(state.peak).toBe(2);
  });

  it('refuses work beyond the queue with 503 SERVICE_BUSY instead of waiting', async () => {
    const queue = new PasswordWorkQueue({ concurrency: 1, maxWaiting: 1 });
    const state = { running: 0, peak: 0 };
    const running = gatedWork(state);
    const waiting = gatedWork(state);
    const first = queue.run(running.work);
    const second = queue.run(waiting.work);
    const refused = await queue.run(async () => 'never').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'SERVICE_BUSY', status: 503, headers: { 'retry-after': '1' } });
    running.release();
    waiting.release();
    await Promise.all([first, second]);
  });

  it('gives the slot back when work fails', async () => {
    const queue = new PasswordWorkQueue({ concurrency: 1, maxWaiting: 0 });
    await expect(queue.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await queue.run(async () => 'after')).toBe('after');
  });
});
