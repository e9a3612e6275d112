import { hash as argon2Hash } from '@node-rs/argon2';
import type { Algorithm } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { describe, expect, it } from 'vitest';
import {
  CURRENT_ARGON2_PARAMETERS,
  hashPassword,
  normalizePassword,
  verifyAgainstDummyHash,
  verifyPassword,
} from './password-hash.js';

const ARGON2I = 1 as Algorithm;

/** A password of `length` characters that is not a repetition of anything short. */
function longPassword(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let password = '';
  for (let i = 0; i < length; i += 1) password += alphabet[(i * 7 + Math.floor(i / 11)) % alphabet.length];
  return password;
}

describe('hashPassword / verifyPassword', () => {
  it('makes an argon2id PHC string at the current parameters that verifies only the same password', async () => {
    const stored = await hashPassword('correct horse battery staple');
    const { memoryCost, timeCost, parallelism } = CURRENT_ARGON2_PARAMETERS;
    expect(stored).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$m=${memoryCost},t=${timeCost},p=${parallelism}\\$`));
    expect(await verifyPassword(stored, 'correct horse battery staple')).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword(stored, 'correct horse battery stapl')).toEqual({ ok: false, needsRehash: false });
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password twice')).not.toBe(await hashPassword('same password twice'));
  });

  it('treats a composed and a decomposed character as the same password', async () => {
    const composed = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
    const decomposed = 'cafe\u0301 au lait, s\u2019il vous plai\u0302t';
    expect(composed).not.toBe(decomposed);
    expect(normalizePassword(decomposed)).toBe(normalizePassword(composed));
    expect((await verifyPassword(await hashPassword(composed), decomposed)).ok).toBe(true);
    expect((await verifyPassword(await hashPassword(decomposed), composed)).ok).toBe(true);
  });

  it('folds compatibility characters such as full-width digits', () => {
    expect(normalizePassword('pass\uff11\uff12\uff13')).toBe('pass123');
  });

  it('asks for a rehash of an argon2id hash made with weaker parameters', async () => {
    const weak = await argon2Hash('an older password hash', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(weak).toContain('$m=4096,t=1,p=1$');
    expect(await verifyPassword(weak, 'an older password hash')).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword(weak, 'an older password hasH')).toEqual({ ok: false, needsRehash: false });
  });

  it('asks for a rehash of an argon2i hash even at the current costs', async () => {
    const stored = await argon2Hash('argon2i from the past', {
      algorithm: ARGON2I,
      memoryCost: CURRENT_ARGON2_PARAMETERS.memoryCost,
      timeCost: CURRENT_ARGON2_PARAMETERS.timeCost,
    });
    expect(stored.startsWith('$argon2i$')).toBe(true);
    expect(await verifyPassword(stored, 'argon2i from the past')).toEqual({ ok: true, needsRehash: true });
  });

  it('asks for a rehash of a hash with a shorter output', async () => {
    const stored = await argon2Hash('a short digest here', { outputLen: 16 });
    expect(await verifyPassword(stored, 'a short digest here')).toEqual({ ok: true, needsRehash: true });
  });

  it('accepts an imported bcrypt hash against the raw password, always asking for a rehash', async () => {
    const stored = await bcryptHash('imported from elsewhere', 4);
    expect(stored).toMatch(/^\$2[aby]\$04\$/);
    expect(await verifyPassword(stored, 'imported from elsewhere')).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword(stored, 'imported from elsewherE')).toEqual({ ok: false, needsRehash: false });
    for (const prefix of ['$2a$', '$2y$']) {
      expect(await verifyPassword(stored.replace('$2b$', prefix), 'imported from elsewhere')).toEqual({
        ok: true,
        needsRehash: true,
      });
    }
  });

  it('compares a bcrypt hash with the password as typed, not its normalised form', async () => {
    const stored = await bcryptHash('cafe\u0301 imported', 4);
    expect((await verifyPassword(stored, 'cafe\u0301 imported')).ok).toBe(true);
    expect((await verifyPassword(stored, 'caf\u00e9 imported')).ok).toBe(false);
  });

  it('answers a stored value in no known format with a plain rejection, never an exception', async () => {
    for (const stored of [
      '',
      'not a hash',
      'plaintext-password',
      '$argon2id$v=19$m=19456,t=2,p=1$',
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$',
      '$argon2id$v=19$m=19456,t=2,p=1$!!!!$!!!!',
      '$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
      '$2b$04$tooShort',
      '$2b$99$' + 'a'.repeat(53),
      '$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA',
    ]) {
      expect(await verifyPassword(stored, 'whatever was typed')).toEqual({ ok: false, needsRehash: false });
    }
  });

  it('rejects a password that is not well-formed Unicode at sign-in and refuses to hash one', async () => {
    const stored = await hashPassword('x\ufffdx\ufffdx\ufffdx\ufffd');
    expect(await verifyPassword(stored, 'x\ud800x\ud800x\ud800x\ud800')).toEqual({ ok: false, needsRehash: false });
    await expect(hashPassword('x\ud800x\ud800x\ud800x\ud800')).rejects.toThrow(TypeError);
  });

  it('never truncates a long password', async () => {
    for (const length of [128, 1000]) {
      const password = longPassword(length);
      expect((await verifyPassword(await hashPassword(password), password)).ok).toBe(true);
    }
    const password = longPassword(200);
    const lastChanged = password.slice(0, -1) + (password.endsWith('x') ? 'y' : 'x');
    expect((await verifyPassword(await hashPassword(password), lastChanged)).ok).toBe(false);
    expect((await verifyPassword(await hashPassword(lastChanged), password)).ok).toBe(false);
  });

  it('throws a TypeError when called with something other than strings', async () => {
    await expect(hashPassword(undefined as unknown as string)).rejects.toThrow(TypeError);
    await expect(verifyPassword(null as unknown as string, 'password')).rejects.toThrow(TypeError);
    await expect(verifyPassword('$argon2id$', 42 as unknown as string)).rejects.toThrow(TypeError);
    await expect(verifyAgainstDummyHash({} as unknown as string)).rejects.toThrow(TypeError);
    expect(() => normalizePassword([] as unknown as string)).toThrow(TypeError);
  });
});

describe('verifyAgainstDummyHash', () => {
  it('resolves, for the first call that computes the dummy hash and for the following ones', async () => {
    await expect(verifyAgainstDummyHash('someone who does not exist')).resolves.toBeUndefined();
    await expect(verifyAgainstDummyHash('')).resolves.toBeUndefined();
    await expect(verifyAgainstDummyHash('\ud800 ill-formed')).resolves.toBeUndefined();
  });
});
