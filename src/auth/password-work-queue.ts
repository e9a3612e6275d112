import { availableParallelism } from 'node:os';
import { AppError } from '../server/errors.js';

/** A place in the queue, taken before a request does anything else; see `PasswordWorkQueue.admit`. */
export interface PasswordWorkTicket {
  /** Runs one piece of password work once a slot is free (may be called more than once). */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Gives the place back; safe to call more than once. */
  release(): void;
}

const serviceBusy = () => new AppError('SERVICE_BUSY', { headers: { 'retry-after': '1' } });

/**
 * Bounds how many password hashes run at once, how much CPU they take, and how many requests may wait
 * for one. A password hash is built to cost milliseconds of CPU; unbounded, a flood of sign-ins (each
 * for a new email, so no per-account limit applies) would occupy every core and starve every other
 * request. With this queue the flood waits its turn or is refused at once with 503 SERVICE_BUSY, and
 * the rest of the API keeps its latency.
 *
 * - `concurrency` hashes at once: all cores but one, which stays free for everything else.
 * - `cpuShare`: after each hash its slot rests, so a busy slot keeps at most this share of a core
 *   (0.5: it rests as long as the hash took). During a flood the event loop and the database then
 *   still get CPU on the cores the slots run on, as they must on a small machine; a single sign-in
 *   with no one waiting is not slowed.
 * - `maxWaiting` requests wait for a slot (default 8 per slot); beyond that, SERVICE_BUSY.
 *
 * @example
 * const queue = new PasswordWorkQueue();
 * const result = await queue.run(() => verifyPassword(hash, password));
 */
export class PasswordWorkQueue {
  private admitted = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  readonly concurrency: number;
  readonly maxWaiting: number;
  readonly cpuShare: number;

  constructor(options: { concurrency?: number; maxWaiting?: number; cpuShare?: number } = {}) {
    this.concurrency = options.concurrency ?? Math.max(1, availableParallelism() - 1);
    this.maxWaiting = options.maxWaiting ?? 8 * this.concurrency;
    this.cpuShare = options.cpuShare ?? 0.5;
    if (!(this.cpuShare > 0 && this.cpuShare <= 1)) throw new RangeError('cpuShare must be in (0, 1]');
  }

  /** Whether a new request would be refused now. */
  get isFull(): boolean {
    return this.admitted >= this.concurrency + this.maxWaiting;
  }

  /** Throws SERVICE_BUSY when a new request would be refused now, without taking a place. */
  refuseIfFull(): void {
    if (this.isFull) throw serviceBusy();
  }

  /**
   * Takes a place now, synchronously, or throws SERVICE_BUSY. A request that will hash takes its
   * place before its first await: a burst of requests that each checked for room and then went on to
   * the database first would all find room, and all queue up behind the database and the hashes.
   */
  admit(): PasswordWorkTicket {
    this.refuseIfFull();
    this.admitted += 1;
    let isReleased = false;
    return {
      run: (work) => this.runInSlot(work),
      release: () => {
        if (isReleased) return;
        isReleased = true;
        this.admitted -= 1;
      },
    };
  }

  /** Takes a place, runs `work` in a slot, gives the place back. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const ticket = this.admit();
    try {
      return await ticket.run(work);
    } finally {
      ticket.release();
    }
  }

  private async runInSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    const startedAt = performance.now();
    try {
      return await work();
    } finally {
      const restMs = (performance.now() - startedAt) * (1 / this.cpuShare - 1);
      if (restMs >= 1) setTimeout(() => this.passSlotOn(), restMs);
      else this.passSlotOn();
    }
  }

  /** Hands the slot straight to the next waiter, or gives it back. */
  private passSlotOn(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }
}
