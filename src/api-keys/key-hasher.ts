import { createHmac, timingSafeEqual } from 'node:crypto';

/** A server secret an API key is hashed under, and its public id (stored beside each hash). */
export interface Pepper {
  id: string;
  key: Buffer;
}

/** A non-secret name for a pepper: which hashes were made under it, without revealing it. */
export function pepperFrom(key: Buffer): Pepper {
  return { id: createHmac('sha256', key).update('rampart api-key pepper id v1').digest('hex').slice(0, 16), key };
}

export interface KeyHash {
  pepperId: string;
  hash: string;
}

/**
 * HMAC-SHA256 of an API key under a pepper that lives outside the database (configuration or a
 * key derived from the master key). A copy of the `api_keys` table alone, without the pepper, lets
 * nobody test a guessed key; a 190-bit key needs no slow hash (bcrypt or argon2 would cost
 * milliseconds of CPU per request for no gain: nobody can enumerate the key space).
 *
 * Rotation: hashes under the previous peppers are still found (one index lookup per pepper, in the
 * same statement) and rewritten under the current one when next used.
 */
export class ApiKeyHasher {
  readonly current: Pepper;
  private readonly all: readonly Pepper[];

  constructor(current: Pepper, previous: readonly Pepper[] = []) {
    this.current = current;
    this.all = [current, ...previous.filter((pepper) => pepper.id !== current.id)];
  }

  /** The key's hash under every pepper, the current one first: the order the lookup tries them in. */
  candidates(key: string): KeyHash[] {
    return this.all.map((pepper) => ({ pepperId: pepper.id, hash: hmacHex(pepper.key, key) }));
  }

  hash(key: string): KeyHash {
    return { pepperId: this.current.id, hash: hmacHex(this.current.key, key) };
  }

  /** Whether the stored hash is one of the presented key's candidates, compared in constant time. */
  static matches(candidates: readonly KeyHash[], storedHash: string): boolean {
    const stored = Buffer.from(storedHash, 'hex');
    let isMatch = false;
    for (const candidate of candidates) {
      const presented = Buffer.from(candidate.hash, 'hex');
      if (presented.length === stored.length && timingSafeEqual(presented, stored)) isMatch = true;
    }
    return isMatch;
  }
}

function hmacHex(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex');
}
