import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchTotpStep, newTotpSecret, totpCodeAt, totpSecretBase32, totpUri, TOTP_SECRET_BYTES } from './totp.js';

/** RFC 4226 appendix D and RFC 6238 appendix B (public test data, copied into test/vectors). */
const vectors = JSON.parse(readFileSync(new URL('../../test/vectors/otp.json', import.meta.url), 'utf8')) as {
  hotp: { secret_ascii: string; secret_base32: string; codes_by_counter: string[] };
  totp: {
    period_seconds: number;
    digits: number;
    secrets_ascii: Record<'SHA1' | 'SHA256' | 'SHA512', string>;
    cases: Array<{ time: number } & Record<'SHA1' | 'SHA256' | 'SHA512', string>>;
  };
};

describe('TOTP (RFC 6238)', () => {
  for (const testCase of vectors.totp.cases) {
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
      it(`gives ${testCase[algorithm]} at T=${testCase.time} with ${algorithm} (RFC 6238 appendix B)`, () => {
        const secret = Buffer.from(vectors.totp.secrets_ascii[algorithm], 'ascii');
        const code = totpCodeAt(secret, testCase.time * 1000, { algorithm, digits: vectors.totp.digits, periodSeconds: vectors.totp.period_seconds });
        expect(code).toBe(testCase[algorithm]);
      });
    }
  }

  it('gives the RFC 4226 HOTP codes as the 6-digit codes of steps 0 to 9', () => {
    const secret = Buffer.from(vectors.hotp.secret_ascii, 'ascii');
    expect(totpSecretBase32(secret)).toBe(vectors.hotp.secret_base32);
    const codes = vectors.hotp.codes_by_counter.map((_, step) => totpCodeAt(secret, step * 30_000));
    expect(codes).toEqual(vectors.hotp.codes_by_counter);
  });

  it('matches a code to its step, one step either side, and never two steps away', () => {
    const secret = Buffer.from(vectors.hotp.secret_ascii, 'ascii');
    const now = 5 * 30_000 + 12_000; // inside step 5
    expect(matchTotpStep(secret, vectors.hotp.codes_by_counter[5]!, now)).toBe(5);
    expect(matchTotpStep(secret, vectors.hotp.codes_by_counter[4]!, now)).toBe(4);
    expect(matchTotpStep(secret, vectors.hotp.codes_by_counter[6]!, now)).toBe(6);
    expect(matchTotpStep(secret, vectors.hotp.codes_by_counter[3]!, now)).toBeUndefined();
    expect(matchTotpStep(secret, vectors.hotp.codes_by_counter[7]!, now)).toBeUndefined();
  });

  it('refuses what is not six digits before any HMAC is computed', () => {
    const secret = newTotpSecret();
    for (const code of ['', '12345', '1234567', '12345a', ' 123456', '１２３４５６']) {
      expect(matchTotpStep(secret, code, Date.now())).toBeUndefined();
    }
  });

  it('makes 160-bit secrets and an otpauth URI that authenticator apps read', () => {
    const secret = newTotpSecret();
    expect(secret).toHaveLength(TOTP_SECRET_BYTES);
    const uri = new URL(totpUri(secret, { issuer: 'Rampart', accountName: 'ada@example.com' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Rampart:ada@example.com');
    expect(uri.searchParams.get('secret')).toBe(totpSecretBase32(secret));
    expect(uri.searchParams.get('issuer')).toBe('Rampart');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });
});
