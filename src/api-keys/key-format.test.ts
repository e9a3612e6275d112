import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { apiKeyEnvironmentFor, generateApiKey, isWellFormedApiKey } from './key-format.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('API key format', () => {
  it('checks the CRC32 of the RFC check string', () => {
    // The check value of CRC-32/ISO-HDLC (the zlib CRC): "123456789" → 0xCBF43926.
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('generates rk_<env>_ + 32 random + 6 checksum characters, with a 12-character display prefix', () => {
    const { key, displayPrefix } = generateApiKey('live');
    expect(key).toMatch(/^rk_live_[0-9A-Za-z]{38}$/);
    expect(displayPrefix).toBe(key.slice(0, 12));
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(generateApiKey('test').key).toMatch(/^rk_test_/);
    expect(apiKeyEnvironmentFor('production')).toBe('live');
    expect(apiKeyEnvironmentFor('development')).toBe('test');
  });

  it('refuses every single-character change of a key (attack: a mistyped or forged key reaching the database)', () => {
    const { key } = generateApiKey('test');
    for (let index = 8; index < key.length; index += 1) {
      const replacement = BASE62[(BASE62.indexOf(key[index]!) + 1) % 62]!;
      expect(isWellFormedApiKey(`${key.slice(0, index)}${replacement}${key.slice(index + 1)}`), `position ${index}`).toBe(false);
    }
    for (const bad of [key.slice(0, -1), `${key}A`, key.replace('rk_test_', 'rk_prod_'), ` ${key}`, key.toUpperCase(), 'x'.repeat(10_000)]) {
      expect(isWellFormedApiKey(bad)).toBe(false);
    }
  });

  it('draws the random part uniformly from base62', () => {
    const counts = new Map<string, number>();
    const keys = 4_000;
    for (let index = 0; index < keys; index += 1) {
      for (const character of generateApiKey('test').key.slice(8, 40)) counts.set(character, (counts.get(character) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const expected = (keys * 32) / 62;
    // A modulo bias would put the first 8 characters about 25 % above the rest; this allows ±10 %.
    for (const count of counts.values()) expect(Math.abs(count - expected) / expected).toBeLessThan(0.1);
  });
});
