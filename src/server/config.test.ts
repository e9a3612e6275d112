import { describe, expect, it } from 'vitest';
import { parseConfig, type RampartConfig } from './config.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

function ok(env: Record<string, string>): RampartConfig {
  const result = parseConfig(env, '/srv/app');
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.config;
}
function problems(env: Record<string, string>): string[] {
  const result = parseConfig(env, '/srv/app');
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.problems;
}

describe('parseConfig', () => {
  it('starts with no variables at all: development, embedded database, loopback only', () => {
    expect(ok({})).toEqual({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 3000,
      publicUrl: 'http://localhost:3000',
      database: { kind: 'embedded', dataDir: '/srv/app/.rampart/pgdata' },
      dataDir: '/srv/app/.rampart',
      masterKey: undefined,
      logLevel: 'info',
      trustProxy: false,
      tls: undefined,
      httpRedirectPort: undefined,
      auditRetentionDays: 730,
      mail: { smtpUrl: undefined, from: 'Rampart <no-reply@localhost>' },
      hibpApiUrl: 'https://api.pwnedpasswords.com',
      stepUpMinutes: 10,
      rateLimitPerMinute: 60,
      webauthn: { rpId: 'localhost', origins: ['http://localhost:3000'] },
      corsOrigins: [],
      redisUrl: undefined,
      apiKeyPeppers: { current: undefined, previous: [] },
      securityTxt: undefined,
      sessions: { idleTimeoutMinutes: 480, absoluteLifetimeHours: 12 },
      formMinFillSeconds: 3,
    });
  });

  it('reads the minimum fill time of public forms, 0 to 60 seconds', () => {
    expect(ok({ RAMPART_FORM_MIN_FILL_SECONDS: '0' }).formMinFillSeconds).toBe(0);
    expect(ok({ RAMPART_FORM_MIN_FILL_SECONDS: '60' }).formMinFillSeconds).toBe(60);
    for (const value of ['61', '-1', '2.5', 'soon']) {
      expect(problems({ RAMPART_FORM_MIN_FILL_SECONDS: value })[0]).toMatch(/^RAMPART_FORM_MIN_FILL_SECONDS must be a whole number from 0 to 60/);
    }
  });

  it('takes the passkey relying party from PUBLIC_URL, or from its own variables when they agree with each other', () => {
    expect(ok({ PUBLIC_URL: 'https://app.example.com' }).webauthn).toEqual({ rpId: 'app.example.com', origins: ['https://app.example.com'] });
    expect(
      ok({ PUBLIC_URL: 'https://app.example.com', RAMPART_WEBAUTHN_RP_ID: 'example.com', RAMPART_WEBAUTHN_ORIGINS: 'https://app.example.com, https://admin.example.com' }).webauthn,
    ).toEqual({ rpId: 'example.com', origins: ['https://app.example.com', 'https://admin.example.com'] });
    expect(ok({ RAMPART_STEP_UP_MINUTES: '5' }).stepUpMinutes).toBe(5);
    expect(ok({ RAMPART_RATE_LIMIT_PER_MINUTE: '600' }).rateLimitPerMinute).toBe(600);
  });

  it('refuses a relying party id that is not a parent of every origin, origins that are not origins, and a step-up window out of range', () => {
    expect(problems({ PUBLIC_URL: 'https://app.example.com', RAMPART_WEBAUTHN_RP_ID: 'other.example' })).toEqual([
      'RAMPART_WEBAUTHN_RP_ID other.example must be the host of https://app.example.com or a parent domain of it',
    ]);
    expect(problems({ RAMPART_WEBAUTHN_ORIGINS: 'https://app.example.com/path' })[0]).toMatch(/^RAMPART_WEBAUTHN_ORIGINS must be a comma-separated list of origins/);
    expect(problems({ RAMPART_WEBAUTHN_RP_ID: 'example.com', RAMPART_WEBAUTHN_ORIGINS: 'https://example.com.evil.test' })[0]).toMatch(/must be the host of/);
    expect(problems({ RAMPART_STEP_UP_MINUTES: '0' })[0]).toMatch(/^RAMPART_STEP_UP_MINUTES must be a whole number from 1 to 1440/);
    expect(problems({ RAMPART_RATE_LIMIT_PER_MINUTE: '0' })[0]).toMatch(/^RAMPART_RATE_LIMIT_PER_MINUTE must be a whole number from 1/);
  });

  it('reads the security.txt contacts, expiry and policy', () => {
    expect(
      ok({
        RAMPART_SECURITY_CONTACTS: 'mailto:security@example.com, https://example.com/report',
        RAMPART_SECURITY_TXT_EXPIRES: '2027-06-30T00:00:00Z',
        RAMPART_SECURITY_POLICY_URL: 'https://example.com/disclosure',
      }).securityTxt,
    ).toEqual({
      contacts: ['mailto:security@example.com', 'https://example.com/report'],
      expires: new Date('2027-06-30T00:00:00Z'),
      policyUrl: 'https://example.com/disclosure',
    });
    expect(ok({}).securityTxt).toBeUndefined();
  });

  it('refuses a security.txt without an expiry, a contact that is not a URI, or a line break in it', () => {
    expect(problems({ RAMPART_SECURITY_CONTACTS: 'mailto:security@example.com' })).toEqual([
      'RAMPART_SECURITY_CONTACTS and RAMPART_SECURITY_TXT_EXPIRES must be set together',
    ]);
    expect(problems({ RAMPART_SECURITY_CONTACTS: 'security@example.com', RAMPART_SECURITY_TXT_EXPIRES: '2027-06-30T00:00:00Z' })[0]).toMatch(
      /^RAMPART_SECURITY_CONTACTS must be a comma-separated list of mailto:, https: or tel: URIs/,
    );
    // Attack: a line break in configuration injecting another field into the published file.
    expect(
      problems({ RAMPART_SECURITY_CONTACTS: 'mailto:a@example.com\nPolicy: https://evil.example', RAMPART_SECURITY_TXT_EXPIRES: '2027-06-30T00:00:00Z' })[0],
    ).toMatch(/^RAMPART_SECURITY_CONTACTS must be/);
    expect(problems({ RAMPART_SECURITY_CONTACTS: 'mailto:a@example.com', RAMPART_SECURITY_TXT_EXPIRES: 'next year' })[0]).toMatch(
      /^RAMPART_SECURITY_TXT_EXPIRES must be an ISO 8601 date and time/,
    );
    for (const contact of ['mailto:', 'mailto:nobody', 'tel:abc', 'mailto:%E0%A4%A']) {
      expect(problems({ RAMPART_SECURITY_CONTACTS: contact, RAMPART_SECURITY_TXT_EXPIRES: '2027-06-30T00:00:00Z' })[0], contact).toMatch(
        /^RAMPART_SECURITY_CONTACTS must be/,
      );
    }
    expect(
      problems({ RAMPART_SECURITY_CONTACTS: 'mailto:a@example.com', RAMPART_SECURITY_TXT_EXPIRES: '2027-06-30T00:00:00Z', RAMPART_SECURITY_POLICY_URL: 'http://example.com/p' })[0],
    ).toMatch(/^RAMPART_SECURITY_POLICY_URL must be an https:\/\/ URL/);
    expect(problems({ RAMPART_SECURITY_POLICY_URL: 'https://example.com/disclosure' })).toEqual([
      'RAMPART_SECURITY_POLICY_URL needs RAMPART_SECURITY_CONTACTS (and RAMPART_SECURITY_TXT_EXPIRES)',
    ]);
  });

  it('reads the mail, breached-password and session settings', () => {
    const config = ok({
      SMTP_URL: 'smtps://mailer:pw@smtp.example:465',
      MAIL_FROM: 'Accounts <accounts@example.com>',
      HIBP_API_URL: 'http://hibp.internal:8080/',
      RAMPART_SESSION_IDLE_MINUTES: '30',
      RAMPART_SESSION_LIFETIME_HOURS: '24',
    });
    expect(config.mail).toEqual({ smtpUrl: 'smtps://mailer:pw@smtp.example:465', from: 'Accounts <accounts@example.com>' });
    expect(config.hibpApiUrl).toBe('http://hibp.internal:8080');
    expect(config.sessions).toEqual({ idleTimeoutMinutes: 30, absoluteLifetimeHours: 24 });
  });

  it('refuses bad mail and session settings without repeating an SMTP password', () => {
    const found = problems({
      SMTP_URL: 'http://user:hunter2@smtp.example',
      MAIL_FROM: 'a\r\nBcc: victim@example.com',
      RAMPART_SESSION_IDLE_MINUTES: '0',
      RAMPART_SESSION_LIFETIME_HOURS: '12h',
    }).join('; ');
    expect(found).toContain('SMTP_URL must be an smtp:// or smtps:// URL');
    expect(found).toContain('MAIL_FROM must be one line');
    expect(found).toContain('RAMPART_SESSION_IDLE_MINUTES must be a whole number from 5 to 10080');
    expect(found).toContain('RAMPART_SESSION_LIFETIME_HOURS must be a whole number from 1 to 2160');
    expect(found).not.toContain('hunter2');
  });

  it('uses DATABASE_URL when set, and treats empty variables as unset', () => {
    expect(ok({ DATABASE_URL: 'postgresql://u@db/app', PORT: '' }).database).toEqual({
      kind: 'postgres',
      url: 'postgresql://u@db/app',
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer from 0 to 65535'],
    [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535'],
    [{ DATABASE_URL: 'not-a-url' }, 'DATABASE_URL must be a postgres:// or postgresql:// connection URL'],
    [{ DATABASE_URL: 'mysql://db/app' }, 'DATABASE_URL must be a postgres:// or postgresql:// connection URL'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL must be an absolute http:// or https:// URL without query or fragment'],
    [{ RAMPART_MASTER_KEY: 'c2hvcnQ=' }, 'RAMPART_MASTER_KEY must be 32 random bytes encoded as base64'],
    [{ RAMPART_MASTER_KEY: `!!!!${'A'.repeat(43)}=` }, 'RAMPART_MASTER_KEY must be 32 random bytes encoded as base64'],
    [{ PUBLIC_URL: 'https://admin:hunter2@app.example' }, 'PUBLIC_URL must not contain a user name or password'],
    [{ HOST: 'not a host!' }, 'HOST must be an IP address or a host name'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be fatal, error, warn, info, debug, trace or silent'],
    [{ TRUST_PROXY: 'everyone' }, 'TRUST_PROXY must be a hop count'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY must be a hop count'],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY must be a hop count'],
    [{ RAMPART_ALLOW_EMBEDDED_DATABASE: 'yes' }, 'RAMPART_ALLOW_EMBEDDED_DATABASE must be true or false'],
    [{ TLS_CERT_FILE: 'cert.pem' }, 'TLS_CERT_FILE and TLS_KEY_FILE must be set together'],
    [{ RAMPART_AUDIT_RETENTION_DAYS: '0' }, 'RAMPART_AUDIT_RETENTION_DAYS must be a whole number of days from 1 to 36500'],
  ])('refuses %j', (env, expected) => {
    expect(problems(env).join('; ')).toContain(expected);
  });

  describe('HTTP_REDIRECT_PORT', () => {
    const tls = { TLS_CERT_FILE: 'cert.pem', TLS_KEY_FILE: 'key.pem' };

    it('opens a redirect listener next to the HTTPS Rampart serves itself', () => {
      const config = ok({ ...tls, PORT: '443', HTTP_REDIRECT_PORT: '80', PUBLIC_URL: 'https://app.example.com' });
      expect(config.httpRedirectPort).toBe(80);
      expect(config.tls).toEqual({ certFile: '/srv/app/cert.pem', keyFile: '/srv/app/key.pem' });
      expect(ok({ ...tls, PORT: '0', HTTP_REDIRECT_PORT: '0' }).httpRedirectPort).toBe(0);
      expect(ok({ ...tls, HTTP_REDIRECT_PORT: '' }).httpRedirectPort).toBeUndefined();
      // Without PUBLIC_URL the redirect goes to the https address Rampart listens on.
      expect(ok({ ...tls, PORT: '8443', HTTP_REDIRECT_PORT: '8080' }).publicUrl).toBe('https://localhost:8443');
    });

    it.each([
      [{ HTTP_REDIRECT_PORT: '80' }, 'HTTP_REDIRECT_PORT needs TLS_CERT_FILE and TLS_KEY_FILE'],
      [{ ...tls, HTTP_REDIRECT_PORT: '443', PORT: '443' }, 'HTTP_REDIRECT_PORT must differ from PORT'],
      [{ ...tls, HTTP_REDIRECT_PORT: '3000' }, 'HTTP_REDIRECT_PORT must differ from PORT'],
      [{ ...tls, HTTP_REDIRECT_PORT: '65536' }, 'HTTP_REDIRECT_PORT must be an integer from 0 to 65535'],
      [{ ...tls, HTTP_REDIRECT_PORT: '-1' }, 'HTTP_REDIRECT_PORT must be an integer from 0 to 65535'],
      [{ ...tls, HTTP_REDIRECT_PORT: '80', PUBLIC_URL: 'http://app.example.com' }, 'PUBLIC_URL must be an https:// URL when TLS_CERT_FILE and TLS_KEY_FILE are set'],
      [{ ...tls, PUBLIC_URL: 'http://app.example.com' }, 'PUBLIC_URL must be an https:// URL when TLS_CERT_FILE and TLS_KEY_FILE are set'],
    ])('refuses %j', (env, expected) => {
      expect(problems(env).join('; ')).toContain(expected);
    });
  });

  it('reports every problem at once, each naming its variable', () => {
    expect(problems({ PORT: 'x', LOG_LEVEL: 'y' }).map((p) => p.split(' ')[0])).toEqual(['PORT', 'LOG_LEVEL']);
  });

  it('never repeats the value of DATABASE_URL, which may hold a password', () => {
    expect(problems({ DATABASE_URL: 'postgres//admin:hunter2@db' }).join(' ')).not.toContain('hunter2');
  });

  describe('in production', () => {
    const production = {
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://app.example',
      RAMPART_MASTER_KEY: KEY,
      SMTP_URL: 'smtp://smtp.example:587',
    };

    it('requires SMTP_URL: without it no verification or reset link could reach anyone', () => {
      const { SMTP_URL: _omitted, ...withoutSmtp } = production;
      expect(problems({ ...withoutSmtp, DATABASE_URL: 'postgres://db/app' }).join()).toContain('SMTP_URL is required in production');
    });

    it('refuses the embedded database unless explicitly allowed', () => {
      expect(problems(production).join()).toContain('DATABASE_URL is required in production');
      expect(ok({ ...production, RAMPART_ALLOW_EMBEDDED_DATABASE: 'true' }).database.kind).toBe('embedded');
    });

    it('refuses to run without a master key: generated development keys are never used', () => {
      const { RAMPART_MASTER_KEY: _omitted, ...withoutKey } = production;
      expect(problems({ ...withoutKey, DATABASE_URL: 'postgres://db/app' }).join()).toContain(
        'RAMPART_MASTER_KEY is required in production',
      );
    });

    it.each([['http://app.example'], ['HTTP://app.example'], [' http://app.example']])('requires an https PUBLIC_URL, refusing %j', (publicUrl) => {
      expect(problems({ ...production, DATABASE_URL: 'postgres://db/app', PUBLIC_URL: publicUrl }).join()).toContain(
        'PUBLIC_URL must be an https:// URL in production',
      );
    });

    it('accepts a complete production configuration', () => {
      const config = ok({ ...production, DATABASE_URL: 'postgres://db/app', TRUST_PROXY: '10.0.0.0/8, 192.168.1.1' });
      expect(config.masterKey?.length).toBe(32);
      expect(config.trustProxy).toEqual(['10.0.0.0/8', '192.168.1.1']);
      expect(config.publicUrl).toBe('https://app.example');
    });
  });

  it('normalises PUBLIC_URL', () => {
    expect(ok({ PUBLIC_URL: 'HTTPS://App.Example/base/' }).publicUrl).toBe('https://app.example/base');
  });

  it('brackets an IPv6 listening address in the default PUBLIC_URL', () => {
    expect(ok({ HOST: '2001:db8::7', PORT: '8080' }).publicUrl).toBe('http://[2001:db8::7]:8080');
  });

  it('names a loopback or wildcard listener localhost in the default PUBLIC_URL: a passkey relying party cannot be an IP address', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost', '0.0.0.0', '::']) {
      const config = ok({ HOST: host, PORT: '8080' });
      expect(config.publicUrl, host).toBe('http://localhost:8080');
      expect(config.webauthn.rpId, host).toBe('localhost');
    }
    expect(ok({ HOST: '192.0.2.10', PORT: '8080' }).publicUrl).toBe('http://192.0.2.10:8080');
  });

  it('reads a trusted hop count', () => {
    expect(ok({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });
});

describe('RAMPART_CORS_ORIGINS', () => {
  it('normalises each entry to the origin a browser sends (lower case, default port dropped, punycode), once each', () => {
    const { corsOrigins } = ok({ RAMPART_CORS_ORIGINS: ' https://App.Example.com/ ,https://app.example.com:443,http://localhost:5173,https://bücher.example:8443' });
    expect(corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173', 'https://xn--bcher-kva.example:8443']);
  });

  it.each([
    ['*', 'any origin (and the cookies with it)'],
    ['null', 'what sandboxed frames and file: pages send'],
    ['https://*.example.com', 'a wildcard subdomain'],
    ['https://app.example.com/console', 'a path'],
    ['https://app.example.com?x=1', 'a query'],
    ['https://user:pass@app.example.com', 'credentials'],
    ['app.example.com', 'no scheme'],
    ['ftp://app.example.com', 'another scheme'],
    ['https://app.example.com,', 'an empty entry'],
  ])('refuses %j (%s) as a configuration problem naming the variable', (value) => {
    expect(problems({ RAMPART_CORS_ORIGINS: value })).toEqual([expect.stringMatching(/^RAMPART_CORS_ORIGINS must be a comma-separated list of exact origins/)]);
  });

  it('allows http:// origins outside production only, loopback ones included', () => {
    expect(ok({ NODE_ENV: 'test', RAMPART_CORS_ORIGINS: 'http://app.test:8080' }).corsOrigins).toEqual(['http://app.test:8080']);
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/rampart', RAMPART_MASTER_KEY: KEY, PUBLIC_URL: 'https://auth.example.com', SMTP_URL: 'smtp://mail' };
    expect(ok({ ...production, RAMPART_CORS_ORIGINS: 'https://app.example.com' }).corsOrigins).toEqual(['https://app.example.com']);
    for (const origin of ['http://app.example.com', 'http://localhost:5173', 'http://127.0.0.1:5173']) {
      expect(problems({ ...production, RAMPART_CORS_ORIGINS: `https://app.example.com,${origin}` })).toEqual([
        `RAMPART_CORS_ORIGINS must list only https:// origins in production (got ${origin})`,
      ]);
    }
  });

  it("refuses PUBLIC_URL's own origin, which is same-origin and must stay refused when a browser marks a request cross-site", () => {
    expect(problems({ PUBLIC_URL: 'https://auth.example.com/base', RAMPART_CORS_ORIGINS: 'https://AUTH.example.com' })).toEqual([
      "RAMPART_CORS_ORIGINS must not list PUBLIC_URL's own origin (https://auth.example.com)",
    ]);
  });
});
