import { describe, expect, it } from 'vitest';
import { generateRecoveryCodes, normaliseRecoveryCode, recoveryCodeHash, RECOVERY_CODE_COUNT } from './recovery-codes.js';

describe('recovery codes', () => {
  it('come in sets of ten distinct 80-bit codes in four groups of four', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
  });

  it('are read back whatever the case, spacing and look-alike letters', () => {
    const [code] = generateRecoveryCodes();
    const canonical = code!.replaceAll('-', '');
    expect(normaliseRecoveryCode(code!)).toBe(canonical);
    expect(normaliseRecoveryCode(` ${code!.toUpperCase().replaceAll('-', ' ')} `)).toBe(canonical);
    expect(normaliseRecoveryCode('0000-1111-0000-1111')).toBe(normaliseRecoveryCode('oOoO-iIlL-0000-1111'));
    for (const typed of ['', 'abcd-efgh', 'abcd-efgh-jkmn-pqrst', 'uuuu-uuuu-uuuu-uuuu', '123456']) {
      expect(normaliseRecoveryCode(typed)).toBeUndefined();
    }
  });

  it('are hashed under the key and bound to the user: the same code hashes differently for another user or key', () => {
    const key = Buffer.alloc(32, 1);
    const hash = recoveryCodeHash(key, 'user-a', 'abcdabcdabcdabcd');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(recoveryCodeHash(key, 'user-b', 'abcdabcdabcdabcd')).not.toBe(hash);
    expect(recoveryCodeHash(Buffer.alloc(32, 2), 'user-a', 'abcdabcdabcdabcd')).not.toBe(hash);
  });
});
