import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHibpServer, type HibpServer } from '../../test/fixtures/hibp-server.js';
import { createBreachedPasswordCheck } from './breached-passwords.js';
import { checkPassword } from './password-policy.js';

const BREACHED = 'Tr0ub4dor&3 horse';
const PADDED = 'only ever in padding lines';
const CLEAN = 'violet tractor umbrella 1987';

const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();

let hibp: HibpServer;
beforeAll(async () => {
  hibp = await startHibpServer({ breachedPasswords: [BREACHED, 'another leaked one'], paddingPasswords: [PADDED] });
});
afterAll(() => hibp.close());
beforeEach(() => {
  hibp.setFailing(false);
  hibp.requests.length = 0;
});

describe('createBreachedPasswordCheck', () => {
  it('finds a breached password and clears another', async () => {
    const isBreached = createBreachedPasswordCheck({ apiUrl: hibp.url });
    expect(await isBreached(BREACHED)).toBe('breached');
    expect(await isBreached('another leaked one')).toBe('breached');
    expect(await isBreached(CLEAN)).toBe('not_breached');
  });

  it('sends only the five-character prefix of the hash', async () => {
    const isBreached = createBreachedPasswordCheck({ apiUrl: `${hibp.url}/` });
    await isBreached(BREACHED);
    const digest = sha1(BREACHED);
    expect(hibp.requests).toEqual([`/range/${digest.slice(0, 5)}`]);
    expect(hibp.requests[0]).toMatch(/^\/range\/[0-9A-F]{5}$/);
    expect(hibp.requests[0]).not.toContain(digest.slice(5));
    expect(hibp.requests[0]!.toUpperCase()).not.toContain(digest.slice(5, 12));
  });

  it('hashes the NFKC form of the password', async () => {
    const isBreached = createBreachedPasswordCheck({ apiUrl: hibp.url });
    // Full-width letters and digits fold to their ASCII forms.
    const fullWidth = 'ａｎｏｔｈｅｒ ｌｅａｋｅｄ ｏｎｅ';
    expect(await isBreached(fullWidth)).toBe('breached');
  });

  it('does not count a matching padding line with a count of 0', async () => {
    const isBreached = createBreachedPasswordCheck({ apiUrl: hibp.url });
    expect(await isBreached(PADDED)).toBe('not_breached');
    expect(hibp.requests).toEqual([`/range/${sha1(PADDED).slice(0, 5)}`]);
  });

  it('reports a failing server as unavailable, without the password or its hash in the reason', async () => {
    hibp.setFailing(true);
    const onUnavailable = vi.fn<(reason: string) => void>();
    const isBreached = createBreachedPasswordCheck({ apiUrl: hibp.url, onUnavailable });
    expect(await isBreached(BREACHED)).toBe('unavailable');
    expect(onUnavailable).toHaveBeenCalledOnce();
    const reason = onUnavailable.mock.calls[0]![0];
    expect(reason).toContain('503');
    expect(reason).not.toContain(BREACHED);
    expect(reason.toUpperCase()).not.toContain(sha1(BREACHED).slice(0, 5));
  });

  it('reports an unreachable server as unavailable', async () => {
    const closed = await startHibpServer({ breachedPasswords: [] });
    await closed.close();
    const onUnavailable = vi.fn<(reason: string) => void>();
    const isBreached = createBreachedPasswordCheck({ apiUrl: closed.url, onUnavailable });
    expect(await isBreached(BREACHED)).toBe('unavailable');
    expect(onUnavailable).toHaveBeenCalledOnce();
    expect(onUnavailable.mock.calls[0]![0]).toBe('request failed (ECONNREFUSED)');
  });

  it('gives up after the timeout', async () => {
    const neverAnswers: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        const signal = init!.signal!;
        signal.addEventListener('abort', () => reject(signal.reason as Error));
      });
    const onUnavailable = vi.fn<(reason: string) => void>();
    const isBreached = createBreachedPasswordCheck({ apiUrl: hibp.url, timeoutMs: 20, fetchImpl: neverAnswers, onUnavailable });
    expect(await isBreached(BREACHED)).toBe('unavailable');
    expect(onUnavailable).toHaveBeenCalledWith('timed out after 20 ms');
  });

  it('reports a malformed, empty or oversized body as unavailable', async () => {
    const answering =
      (body: string): typeof fetch =>
      async () =>
        new Response(body, { status: 200 });
    const suffix = sha1(BREACHED).slice(5);
    for (const [body, reason] of [
      ['<html>Welcome to the captive portal</html>', 'malformed response body'],
      [`${suffix}:42\r\nnot a line`, 'malformed response body'],
      [`${suffix}:-1`, 'malformed response body'],
      ['', 'empty response body'],
      [`${'0'.repeat(35)}:0\r\n`.repeat(40_000), 'response body larger than 1048576 bytes'],
    ] as const) {
      const onUnavailable = vi.fn<(reason: string) => void>();
      const isBreached = createBreachedPasswordCheck({ apiUrl: hibp.url, fetchImpl: answering(body), onUnavailable });
      expect(await isBreached(BREACHED)).toBe('unavailable');
      expect(onUnavailable).toHaveBeenCalledWith(reason);
    }
  });

  it('accepts LF line endings and lower-case suffixes', async () => {
    const suffix = sha1(BREACHED).slice(5).toLowerCase();
    const fetchImpl: typeof fetch = async () => new Response(`${'A'.repeat(35)}:3\n${suffix}:7\n`, { status: 200 });
    expect(await createBreachedPasswordCheck({ apiUrl: hibp.url, fetchImpl })(BREACHED)).toBe('breached');
  });

  it('still resolves when the unavailability callback throws', async () => {
    hibp.setFailing(true);
    const isBreached = createBreachedPasswordCheck({
      apiUrl: hibp.url,
      onUnavailable: () => {
        throw new Error('logger down');
      },
    });
    expect(await isBreached(BREACHED)).toBe('unavailable');
  });

  it('refuses an API URL that is not http(s), and other misuse', () => {
    for (const apiUrl of ['ftp://example.com', 'file:///etc/passwd', 'javascript:alert(1)', 'api.pwnedpasswords.com', '']) {
      expect(() => createBreachedPasswordCheck({ apiUrl })).toThrow(TypeError);
    }
    expect(() => createBreachedPasswordCheck({ apiUrl: 'https://example.com/?key=1' })).toThrow(TypeError);
    expect(() => createBreachedPasswordCheck({ apiUrl: hibp.url, timeoutMs: 0 })).toThrow(TypeError);
    expect(() => createBreachedPasswordCheck({ apiUrl: 42 as unknown as string })).toThrow(TypeError);
    expect(() => createBreachedPasswordCheck({ apiUrl: 'https://api.pwnedpasswords.com' })).not.toThrow();
  });
});

describe('checkPassword', () => {
  it('refuses a password found in the breach corpus', async () => {
    const isBreached = createBreachedPasswordCheck({ apiUrl: hibp.url });
    expect(await checkPassword(BREACHED, {}, isBreached)).toEqual({ ok: false, reason: 'breached' });
    expect(await checkPassword(CLEAN, {}, isBreached)).toEqual({ ok: true });
  });

  it('accepts a password when the breach service is unavailable', async () => {
    hibp.setFailing(true);
    const onUnavailable = vi.fn<(reason: string) => void>();
    const isBreached = createBreachedPasswordCheck({ apiUrl: hibp.url, onUnavailable });
    expect(await checkPassword(BREACHED, {}, isBreached)).toEqual({ ok: true });
    expect(onUnavailable).toHaveBeenCalledOnce();
  });

  it('asks the breach service only about a password that passed the offline rules', async () => {
    const isBreached = vi.fn(createBreachedPasswordCheck({ apiUrl: hibp.url }));
    expect(await checkPassword('short', {}, isBreached)).toEqual({ ok: false, reason: 'too_short' });
    expect(await checkPassword('passwordpassword', {}, isBreached)).toEqual({ ok: false, reason: 'common' });
    expect(isBreached).not.toHaveBeenCalled();
    expect(hibp.requests).toEqual([]);
  });
});
