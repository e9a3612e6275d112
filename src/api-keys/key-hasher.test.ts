import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiKey } from './key-format.js';
import { ApiKeyHasher, HmacSha256, pepperFrom } from './key-hasher.js';

describe('HmacSha256', () => {
  it('reproduces the RFC 4231 HMAC-SHA-256 test cases 1 and 2', () => {
    expect(new HmacSha256(Buffer.alloc(20, 0x0b)).hex('Hi There')).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    expect(new HmacSha256(Buffer.from('Jefe')).hex('what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('equals createHmac for random keys and values, call after call (the reused buffers keep nothing of an earlier value)', () => {
    for (let round = 0; round < 300; round += 1) {
      const key = randomBytes(randomInt(1, 65));
      const hmac = new HmacSha256(key);
      for (const length of [0, 1, 46, randomInt(0, 300), 5, 192, 193]) {
        const value = Array.from({ length }, () => String.fromCharCode(randomInt(0x20, 0x7f))).join('');
        expect(hmac.hex(value)).toBe(createHmac('sha256', key).update(value, 'utf8').digest('hex'));
      }
      const unicode = `clé ${round} 🔑\u0000`;
      expect(hmac.hex(unicode)).toBe(createHmac('sha256', key).update(unicode, 'utf8').digest('hex'));
    }
  });

  it('refuses a key longer than the SHA-256 block (which RFC 2104 would hash first)', () => {
    expect(() => new HmacSha256(Buffer.alloc(65))).toThrow(/longer than/);
  });
});

describe('ApiKeyHasher', () => {
  const current = pepperFrom(randomBytes(32));
  const previous = pepperFrom(randomBytes(32));
  const hasher = new ApiKeyHasher(current, [previous]);

  it('hashes under the current pepper first, then each previous one', () => {
    const { key } = generateApiKey('test');
    expect(hasher.candidates(key)).toEqual([
      { pepperId: current.id, hash: createHmac('sha256', current.key).update(key).digest('hex') },
      { pepperId: previous.id, hash: createHmac('sha256', previous.key).update(key).digest('hex') },
    ]);
    expect(hasher.hash(key)).toEqual(hasher.candidates(key)[0]);
  });

  it('accepts a stored hash only when it is one of the presented key candidates (attack: a lookup returning another key row)', () => {
    const { key } = generateApiKey('test');
    const other = generateApiKey('test').key;
    const candidates = hasher.candidates(key);
    expect(ApiKeyHasher.matches(candidates, candidates[0]!.hash)).toBe(true);
    expect(ApiKeyHasher.matches(candidates, candidates[1]!.hash)).toBe(true);
    expect(ApiKeyHasher.matches(candidates, hasher.hash(other).hash)).toBe(false);
    expect(ApiKeyHasher.matches(candidates, candidates[0]!.hash.slice(0, 63))).toBe(false);
    expect(ApiKeyHasher.matches(candidates, '')).toBe(false);
  });
});
