import { createHmac, hash, timingSafeEqual } from 'node:crypto';

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

const SHA256_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;
/** Longest value hashed without `createHmac`: an API key is 46 characters. */
const MAX_FAST_VALUE_LENGTH = 192;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * HMAC-SHA256 (RFC 2104) under one key, as two one-shot SHA-256 calls over pads computed once:
 * H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)). It is `createHmac` without the keyed OpenSSL context that
 * `createHmac` builds on every call, which is most of an API key check's CPU (about 1.8 µs here
 * against 4 µs, see docs/benchmarks.md). `key-hasher.test.ts` holds it to `createHmac` and to the
 * RFC 4231 vectors. Values other than short printable ASCII (never an API key) go through
 * `createHmac`.
 */
export class HmacSha256 {
  /** K ⊕ ipad followed by room for the value, and K ⊕ opad followed by room for the inner digest. */
  private readonly inner = Buffer.alloc(SHA256_BLOCK_BYTES + MAX_FAST_VALUE_LENGTH, 0x36);
  private readonly outer = Buffer.alloc(SHA256_BLOCK_BYTES + SHA256_BYTES, 0x5c);

  constructor(private readonly key: Buffer) {
    if (key.length > SHA256_BLOCK_BYTES) throw new Error('An HMAC key longer than the SHA-256 block is not supported');
    for (let index = 0; index < key.length; index += 1) {
      this.inner[index]! ^= key[index]!;
      this.outer[index]! ^= key[index]!;
    }
  }

  /**
   * The buffers are reused from call to call: safe because this runs synchronously from the first
   * write to the last read, so no other call can interleave.
   */
  hex(value: string): string {
    if (value.length > MAX_FAST_VALUE_LENGTH || !PRINTABLE_ASCII.test(value)) {
      return createHmac('sha256', this.key).update(value, 'utf8').digest('hex');
    }
    const length = this.inner.write(value, SHA256_BLOCK_BYTES, 'latin1');
    const innerDigest = hash('sha256', this.inner.subarray(0, SHA256_BLOCK_BYTES + length), 'binary'); // 'binary' is latin1
    // The value is a secret (an API key): it does not stay in this long-lived buffer.
    this.inner.fill(0, SHA256_BLOCK_BYTES, SHA256_BLOCK_BYTES + length);
    this.outer.write(innerDigest, SHA256_BLOCK_BYTES, 'latin1');
    return hash('sha256', this.outer, 'hex');
  }
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
  private readonly all: readonly { pepper: Pepper; hmac: HmacSha256 }[];

  constructor(current: Pepper, previous: readonly Pepper[] = []) {
    this.current = current;
    this.all = [current, ...previous.filter((pepper) => pepper.id !== current.id)].map((pepper) => ({ pepper, hmac: new HmacSha256(pepper.key) }));
  }

  /** The key's hash under every pepper, the current one first: the order the lookup tries them in. */
  candidates(key: string): KeyHash[] {
    return this.all.map(({ pepper, hmac }) => ({ pepperId: pepper.id, hash: hmac.hex(key) }));
  }

  hash(key: string): KeyHash {
    return { pepperId: this.current.id, hash: this.all[0]!.hmac.hex(key) };
  }

  /**
   * Whether a stored hash is one of the presented key's candidates, compared in constant time. The
   * database finds the row by equality on the hash already; this is a backstop, so that a request
   * is authenticated only by a row whose stored hash is the presented key's HMAC, even if a future
   * change to the lookup returned another row.
   */
  static matches(candidates: readonly KeyHash[], storedHash: string): boolean {
    const stored = Buffer.from(storedHash, 'latin1');
    let isMatch = false;
    for (const candidate of candidates) {
      const presented = Buffer.from(candidate.hash, 'latin1');
      // Every candidate is compared, found or not: the time does not depend on which one matched.
      if (presented.length === stored.length && timingSafeEqual(presented, stored)) isMatch = true;
    }
    return isMatch;
  }
}
