import type { Logger } from 'pino';

/**
 * Work that runs after the response has gone: sending email, mostly. Answering first keeps the
 * response time of "is this address registered?"-shaped routes the same whichever way the answer
 * goes, and a slow mail server never holds a request. Failures are logged; shutdown waits for
 * whatever is still running so nothing started is cut off.
 *
 * @example
 * background.run('send verification email', () => mailer.send(message));
 */
export class BackgroundTasks {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(description: string, task: () => Promise<void>): void {
    // setImmediate, not a microtask: the response is written first, so not even the synchronous start
    // of the task (with the embedded database, a whole query) delays it.
    const promise = new Promise<void>((resolve) => setImmediate(resolve))
      .then(task)
      .catch((error: unknown) => this.logger.error({ err: error, task: description }, `background task failed: ${description}`))
      .finally(() => this.pending.delete(promise));
    this.pending.add(promise);
  }

  /** Resolves when every task started so far has finished (tests, and shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
