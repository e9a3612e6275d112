import { availableParallelism } from 'node:os';
import { AppError } from '../server/errors.js';

/**
 * Bounds how many password hashes run at once and how many wait. A password hash is built to cost
 * tens of milliseconds of CPU; unbounded, a flood of sign-ins (each for a new email, so no per-account
 * limit applies) would occupy every core and starve every other request. With this queue the flood
 * waits its turn or is refused at once with 503 SERVICE_BUSY, and the rest of the API keeps its latency.
 *
 * @example
 * const queue = new PasswordWorkQueue();
 * const result = await queue.run(() => verifyPassword(hash, password));
 */
export class PasswordWorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  readonly concurrency: number;
  readonly maxWaiting: number;

  constructor(options: { concurrency?: number; maxWaiting?: number } = {}) {
    // One core stays free for everything else.
    this.concurrency = options.concurrency ?? Math.max(1, availableParallelism() - 1);
    this.maxWaiting = options.maxWaiting ?? 32;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new AppError('SERVICE_BUSY', { headers: { 'retry-after': '1' } });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter, or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
