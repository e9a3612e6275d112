/** `/.well-known/security.txt` (RFC 9116), written from the configuration. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SECURITY_HEADERS } from '../../src/server/security-headers.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';

describe('/.well-known/security.txt', () => {
  let configured: TestApp;
  let bare: TestApp;
  beforeAll(async () => {
    configured = await createTestApp({
      env: {
        PUBLIC_URL: 'https://auth.example.com',
        RAMPART_SECURITY_CONTACTS: 'mailto:security@example.com,https://example.com/report',
        RAMPART_SECURITY_TXT_EXPIRES: '2027-06-30T00:00:00Z',
        RAMPART_SECURITY_POLICY_URL: 'https://example.com/disclosure',
      },
    });
    bare = await createTestApp();
  });
  afterAll(async () => {
    await configured.close();
    await bare.close();
  });

  it('names the contacts, the expiry, the policy and its own canonical address, as plain text with the security headers', async () => {
    const response = await configured.app.inject({ method: 'GET', url: '/.well-known/security.txt' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body).toBe(
      [
        'Contact: mailto:security@example.com',
        'Contact: https://example.com/report',
        'Expires: 2027-06-30T00:00:00.000Z',
        'Policy: https://example.com/disclosure',
        'Canonical: https://auth.example.com/.well-known/security.txt',
        'Preferred-Languages: en',
        '',
      ].join('\n'),
    );
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) expect(response.headers[name], name).toBe(value);
  });

  it('still serves an expired file but warns the operator at start', async () => {
    const stale = await createTestApp({ env: { RAMPART_SECURITY_CONTACTS: 'mailto:security@example.com', RAMPART_SECURITY_TXT_EXPIRES: '2020-01-01T00:00:00Z' } });
    try {
      expect((await stale.app.inject({ method: 'GET', url: '/.well-known/security.txt' })).body).toContain('Expires: 2020-01-01T00:00:00.000Z');
      expect(stale.logs.some((line) => line.level === 40 && String(line.msg).startsWith('security.txt has expired'))).toBe(true);
    } finally {
      await stale.close();
    }
  });

  it('is 404 problem+json when no contact is configured', async () => {
    const response = await bare.app.inject({ method: 'GET', url: '/.well-known/security.txt' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
  });
});
