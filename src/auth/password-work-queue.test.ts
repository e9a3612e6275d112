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

describe('PasswordWorkQueue admission', () => {
  it('admits a burst synchronously up to its capacity and refuses the rest before any of them awaits', () => {
    // Attack: a burst of sign-ins that each checked for room, then all went on to the database and
    // the hash queue together. Places are taken synchronously, so the burst cannot overbook.
    const queue = new PasswordWorkQueue({ concurrency: 1, maxWaiting: 2 });
    const outcomes = Array.from({ length: 5 }, () => {
      try {
        return queue.admit();
      } catch (error) {
        return error;
      }
    });
    expect(outcomes.slice(0, 3).every((outcome) => !(outcome instanceof Error))).toBe(true);
    expect(outcomes.slice(3)).toEqual([
      expect.objectContaining({ code: 'SERVICE_BUSY' }),
      expect.objectContaining({ code: 'SERVICE_BUSY' }),
    ]);
    expect(queue.isFull).toBe(true);
  });

  it('frees the place of a released ticket, once, even when released twice', () => {
    const queue = new PasswordWorkQueue({ concurrency: 1, maxWaiting: 0 });
    const ticket = queue.admit();
    expect(() => queue.admit()).toThrow(AppError);
    ticket.release();
    ticket.release();
    const next = queue.admit();
    expect(() => queue.admit()).toThrow(AppError);
    next.release();
  });

  it('runs the work of admitted tickets no more than its concurrency at once', async () => {
    const queue = new PasswordWorkQueue({ concurrency: 1, maxWaiting: 5 });
    const state = { running: 0, peak: 0 };
    const tickets = [queue.admit(), queue.admit(), queue.admit()];
    const jobs = tickets.map(() => gatedWork(state));
    const results = tickets.map((ticket, index) => ticket.run(jobs[index]!.work));
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.running).toBe(1);
    for (const job of jobs) job.release();
    expect(await Promise.all(results)).toEqual(['done', 'done', 'done']);
    expect(state.peak).toBe(1);
    for (const ticket of tickets) ticket.release();
    expect(queue.isFull).toBe(false);
  });
});

describe('PasswordWorkQueue CPU share', () => {
  /** How long after a 40 ms piece of work the next waiter starts, at this share. */
  async function gapAfterBusySlot(cpuShare: number): Promise<number> {
    const queue = new PasswordWorkQueue({ concurrency: 1, maxWaiting: 1, cpuShare });
    const first = queue.run(() => new Promise<number>((resolve) => setTimeout(() => resolve(performance.now()), 40)));
    const second = queue.run(async () => performance.now());
    return (await second) - (await first);
  }

  it('rests a slot as long as its hash took at a share of 0.5, before the next waiter starts', async () => {
    // Attack: a flood keeping the hash slot busy back to back, so that the event loop and the
    // database on the same cores get no CPU. The slot's rest leaves them half of it.
    expect(await gapAfterBusySlot(0.5)).toBeGreaterThanOrEqual(30);
  });

  it('hands the slot on at once at a share of 1', async () => {
    expect(await gapAfterBusySlot(1)).toBeLessThan(20);
  });

  it('refuses a share outside (0, 1]', () => {
    expect(() => new PasswordWorkQueue({ cpuShare: 0 })).toThrow(RangeError);
    expect(() => new PasswordWorkQueue({ cpuShare: 1.5 })).toThrow(RangeError);
  });
});
