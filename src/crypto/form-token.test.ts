import { describe, expect, it } from 'vitest';
import { issueFormToken, readFormToken } from './form-token.js';

const KEY = Buffer.alloc(32, 7);

// Computed outside Node: payload with `printf 'sign-up:1700000000000' | base64` (made url-safe, no
// padding), MAC with `openssl dgst -sha256 -mac HMAC -macopt hexkey:0707…07` over that payload.
const VECTOR = {
  form: 'sign-up',
  issuedAtMs: 1_700_000_000_000,
  token: 'c2lnbi11cDoxNzAwMDAwMDAwMDAw.TOex0HzBEFrgUUdAa2vZ8WNiEJlqk4c3d2CCfGcYRew',
};

describe('form tokens', () => {
  it('match the known-answer vector, and read back their issue time', () => {
    expect(issueFormToken(KEY, VECTOR.form, VECTOR.issuedAtMs)).toBe(VECTOR.token);
    expect(readFormToken(KEY, VECTOR.token, VECTOR.form)).toBe(VECTOR.issuedAtMs);
  });

  it('refuses another form, another key, and a change to any character', () => {
    expect(readFormToken(KEY, VECTOR.token, 'early-access')).toBeNull();
    expect(readFormToken(Buffer.alloc(32, 8), VECTOR.token, VECTOR.form)).toBeNull();
    for (let index = 0; index < VECTOR.token.length; index += 1) {
      const original = VECTOR.token[index]!;
      const replacement = original === 'A' ? 'B' : 'A';
      const tampered = `${VECTOR.token.slice(0, index)}${replacement}${VECTOR.token.slice(index + 1)}`;
      expect(readFormToken(KEY, tampered, VECTOR.form), tampered).toBeNull();
    }
  });

  it('refuses a re-signed payload that names another time without the key (an older token forged)', () => {
    const payload = Buffer.from('sign-up:1600000000000').toString('base64url');
    const mac = VECTOR.token.split('.')[1]!;
    expect(readFormToken(KEY, `${payload}.${mac}`, VECTOR.form)).toBeNull();
  });

  it.each(['', '.', 'x', `${VECTOR.token}.x`, `${VECTOR.token}=`, ' '.repeat(200)])('refuses the malformed token %j', (token) => {
    expect(readFormToken(KEY, token, VECTOR.form)).toBeNull();
  });

  it('refuses to issue a token whose payload could not be read back', () => {
    expect(() => issueFormToken(KEY, 'Sign:Up', 1)).toThrow(TypeError);
    expect(() => issueFormToken(KEY, 'sign-up', 1.5)).toThrow(TypeError);
  });
});
