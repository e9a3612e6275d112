import type { PasswordWorkQueue } from '../auth/password-work-queue.js';

/**
 * The `onRequest` hook of every route that hashes a password: while the password queue is full, the
 * request is refused with 503 SERVICE_BUSY before its body is read, parsed or validated. In a flood
 * that is the cheapest answer there is, so the flood takes as little as it can from the rest of the API.
 */
export function refuseWhenPasswordWorkIsFull(queue: PasswordWorkQueue): () => Promise<void> {
  return async () => queue.refuseIfFull();
}
