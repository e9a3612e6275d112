import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/**
 * Rampart's configuration, read once from the environment at start-up.
 *
 * Parsing is pure (no file or network access) so that every rule can be tested directly; the CLI
 * turns a failure into one line on stderr and a non-zero exit before anything starts.
 */
export interface RampartConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** The external base URL, without a trailing slash: links, the Origin allow-list, cookie security. */
  publicUrl: string;
  database: { kind: 'embedded'; dataDir: string } | { kind: 'postgres'; url: string };
  /** Where the embedded database and generated development secrets live. */
  dataDir: string;
  /** 32-byte key for envelope encryption; `undefined` means "generate one in dataDir" (development only). */
  masterKey: Buffer | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Which `X-Forwarded-*` headers to believe: nobody's (false), a hop count, or a list of addresses/CIDRs. */
  trustProxy: false | number | string[];
  tls: { certFile: string; keyFile: string } | undefined;
  /** A plain-HTTP port that only redirects to PUBLIC_URL (needs `tls`); undefined: none is opened. */
  httpRedirectPort: number | undefined;
  /** Audit events older than this are removed by `rampart audit purge` (a signed checkpoint remains). */
  auditRetentionDays: number;
  /** Outgoing email: SMTP when `smtpUrl` is set, otherwise the in-memory development outbox. */
  mail: { smtpUrl: string | undefined; from: string };
  /** Base URL of a Have-I-Been-Pwned-compatible range API (`${url}/range/ABCDE`). */
  hibpApiUrl: string;
  /** Sensitive actions need an authentication (sign-in or step-up) at most this old. */
  stepUpMinutes: number;
  /** Requests one client may make to one route per minute, unless the route declares its own limit. */
  rateLimitPerMinute: number;
  /** Redis for state shared by every instance (the per-key rate limit); absent: the database keeps it. */
  redisUrl: string | undefined;
  /**
   * Server secrets API keys are hashed under, outside the database: `current` (undefined: derived
   * from the master key) and earlier ones whose hashes still verify and are rewritten when used.
   */
  apiKeyPeppers: { current: Buffer | undefined; previous: Buffer[] };
  /** Passkeys: the relying party id (a domain) and the exact origins a ceremony may come from. */
  webauthn: { rpId: string; origins: string[] };
  /**
   * Other origins whose pages may call the API with the user's cookies (credentialed CORS), exactly
   * as a browser writes them in `Origin`. Empty: CORS is off and no page of another origin can.
   */
  corsOrigins: string[];
  /**
   * What `/.well-known/security.txt` (RFC 9116) says: where to report a vulnerability, until when the
   * file is to be trusted, and the disclosure policy. Undefined: no file is served.
   */
  securityTxt: { contacts: string[]; expires: Date; policyUrl: string | undefined } | undefined;
  sessions: {
    /** A session unused for this long ends. */
    idleTimeoutMinutes: number;
    /** A session ends this long after sign-in, however active. */
    absoluteLifetimeHours: number;
  };
  /** A public form submitted sooner than this after it was shown is dropped as a bot's (0: no minimum). */
  formMinFillSeconds: number;
}

export type ConfigResult = { ok: true; config: RampartConfig } | { ok: false; problems: string[] };

/** Environment values that are set but empty are treated as unset, as shells make that easy to do by accident. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optionalVar = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());

const port = z
  .string()
  .regex(/^\d{1,5}$/, { error: 'must be an integer from 0 to 65535' })
  .transform(Number)
  .refine((value) => value <= 65_535, { error: 'must be an integer from 0 to 65535' });

/** Parsed and normalised (lower-case scheme and host, no trailing slash), so later checks compare like with like. */
const httpUrl = z.string().transform((value, context) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    context.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL without query or fragment' });
    return z.NEVER;
  }
  // It is published (links, the OpenAPI document): a password in it would be published too.
  if (url.username || url.password) {
    context.addIssue({ code: 'custom', message: 'must not contain a user name or password' });
    return z.NEVER;
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
});

/** An IP address or a DNS name. */
const host = z
  .string()
  .refine((value) => isIP(value) !== 0 || /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(value), {
    error: 'must be an IP address or a host name',
  });

// The value of DATABASE_URL may hold a password: messages about it never repeat it.
const postgresUrl = z.string().refine(
  (value) => URL.canParse(value) && ['postgres:', 'postgresql:'].includes(new URL(value).protocol),
  { error: 'must be a postgres:// or postgresql:// connection URL' },
);

// Strict: Node's base64 decoder skips characters it does not know, so a mangled key would decode
// to something shorter or different instead of being refused.
const masterKey = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, {
    error: 'must be 32 random bytes encoded as base64 (for example the output of `openssl rand -base64 32`)',
  })
  .transform((value) => Buffer.from(value, 'base64'));

const pepperList = z.string().transform((value, context) => {
  const entries = value.split(',').map((entry) => entry.trim());
  const parsed = entries.map((entry) => masterKey.safeParse(entry));
  if (parsed.some((result) => !result.success)) {
    context.addIssue({ code: 'custom', message: 'must be a comma-separated list of 32-byte base64 keys' });
    return z.NEVER;
  }
  return parsed.map((result) => result.data!);
});

const redisUrl = z.string().refine(
  (value) => URL.canParse(value) && ['redis:', 'rediss:'].includes(new URL(value).protocol),
  { error: 'must be a redis:// or rediss:// URL' },
);

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, { error: `must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .refine((value) => value >= min && value <= max, { error: `must be a whole number from ${min} to ${max}` });

/** RFC 9116 contacts: `mailto:`, `https:` or `tel:` URIs, comma-separated. */
const securityContacts = z.string().transform((value, context) => {
  const entries = value.split(',').map((entry) => entry.trim());
  const isContact = (entry: string) => {
    if (!URL.canParse(entry) || /[\s"<>]/.test(entry)) return false;
    const { protocol, pathname } = new URL(entry);
    // The address as written: decoding a malformed %-escape would throw instead of refusing.
    if (protocol === 'mailto:') return /^[^@]+@[^@]+$/.test(pathname);
    if (protocol === 'tel:') return /^\+?[0-9-]{3,}$/.test(pathname);
    return protocol === 'https:';
  };
  if (!entries.every(isContact)) {
    context.addIssue({ code: 'custom', message: 'must be a comma-separated list of mailto:, https: or tel: URIs' });
    return z.NEVER;
  }
  return entries;
});

const isoDateTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date and time, such as 2027-06-30T00:00:00Z' })
  .transform((value) => new Date(value));

const CORS_ORIGINS_HELP =
  'must be a comma-separated list of exact origins such as https://app.example.com (scheme, host and port; no path; "*", "null" and wildcards are refused)';

/** An http(s) origin with nothing after it, as a browser serialises it in `Origin`; undefined otherwise. */
function exactOrigin(entry: string): string | undefined {
  if (entry.includes('*') || !URL.canParse(entry)) return undefined;
  const url = new URL(entry);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
  return url.origin;
}

/**
 * RAMPART_CORS_ORIGINS, normalised (lower-case host, default port dropped, IDN in punycode) so that
 * the request-time check is an exact string lookup. A credentialed CORS grant must name every origin
 * it trusts: `*` would be refused by browsers with cookies anyway, `null` is what sandboxed frames and
 * `file:` pages send (anyone can produce it), and a wildcard would trust every future subdomain.
 */
const corsOriginList = z.string().transform((value, context) => {
  const origins = new Set<string>();
  for (const entry of value.split(',').map((part) => part.trim())) {
    const origin = exactOrigin(entry);
    if (origin === undefined) {
      context.addIssue({ code: 'custom', message: `${CORS_ORIGINS_HELP} (got ${JSON.stringify(entry)})` });
      return z.NEVER;
    }
    origins.add(origin);
  }
  return [...origins];
});

const booleanFlag = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

const TRUST_PROXY_HELP = 'must be a hop count (1, 2, …) or a comma-separated list of IP addresses or CIDR ranges';

function parseTrustProxy(value: string): number | string[] | undefined {
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops >= 1 && hops <= 100 ? hops : undefined;
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const isValidEntry = (entry: string) => {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return false;
    if (prefix === undefined) return true;
    const bits = Number(prefix);
    return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
  };
  return entries.every(isValidEntry) ? entries : undefined;
}

const trustProxy = z.string().transform((value, context) => {
  const parsed = parseTrustProxy(value);
  if (parsed === undefined) {
    context.addIssue({ code: 'custom', message: TRUST_PROXY_HELP });
    return z.NEVER;
  }
  return parsed;
});

const environmentSchema = z.object({
  NODE_ENV: optionalVar(
    z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' }),
  ),
  PORT: optionalVar(port),
  HOST: optionalVar(host),
  PUBLIC_URL: optionalVar(httpUrl),
  DATABASE_URL: optionalVar(postgresUrl),
  RAMPART_DATA_DIR: optionalVar(z.string()),
  RAMPART_ALLOW_EMBEDDED_DATABASE: optionalVar(booleanFlag),
  RAMPART_MASTER_KEY: optionalVar(masterKey),
  LOG_LEVEL: optionalVar(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be fatal, error, warn, info, debug, trace or silent',
    }),
  ),
  TRUST_PROXY: optionalVar(trustProxy),
  RAMPART_AUDIT_RETENTION_DAYS: optionalVar(
    z
      .string()
      .regex(/^\d{1,5}$/, { error: 'must be a whole number of days from 1 to 36500' })
      .transform(Number)
      .refine((days) => days >= 1 && days <= 36_500, { error: 'must be a whole number of days from 1 to 36500' }),
  ),
  SMTP_URL: optionalVar(
    z.string().refine((value) => URL.canParse(value) && ['smtp:', 'smtps:'].includes(new URL(value).protocol), {
      error: 'must be an smtp:// or smtps:// URL',
    }),
  ),
  MAIL_FROM: optionalVar(z.string().min(3).max(320).refine((value) => !/[\r\n]/.test(value), { error: 'must be one line' })),
  HIBP_API_URL: optionalVar(httpUrl),
  RAMPART_SESSION_IDLE_MINUTES: optionalVar(wholeNumber(5, 10_080)),
  RAMPART_SESSION_LIFETIME_HOURS: optionalVar(wholeNumber(1, 2_160)),
  RAMPART_STEP_UP_MINUTES: optionalVar(wholeNumber(1, 1_440)),
  RAMPART_FORM_MIN_FILL_SECONDS: optionalVar(wholeNumber(0, 60)),
  RAMPART_RATE_LIMIT_PER_MINUTE: optionalVar(wholeNumber(1, 1_000_000)),
  RAMPART_WEBAUTHN_RP_ID: optionalVar(host),
  RAMPART_WEBAUTHN_ORIGINS: optionalVar(z.string()),
  RAMPART_CORS_ORIGINS: optionalVar(corsOriginList),
  TLS_CERT_FILE: optionalVar(z.string()),
  TLS_KEY_FILE: optionalVar(z.string()),
  HTTP_REDIRECT_PORT: optionalVar(port),
  REDIS_URL: optionalVar(redisUrl),
  RAMPART_API_KEY_PEPPER: optionalVar(masterKey),
  RAMPART_API_KEY_PREVIOUS_PEPPERS: optionalVar(pepperList),
  RAMPART_SECURITY_CONTACTS: optionalVar(securityContacts),
  RAMPART_SECURITY_TXT_EXPIRES: optionalVar(isoDateTime),
  // RFC 9116 2.5.7: web addresses in security.txt are https.
  RAMPART_SECURITY_POLICY_URL: optionalVar(
    z.string().refine((value) => URL.canParse(value) && new URL(value).protocol === 'https:' && !/[\s"<>]/.test(value), {
      error: 'must be an https:// URL',
    }),
  ),
});

/**
 * Parses and checks the environment. Returns every problem at once, each naming its variable.
 *
 * @example
 * const result = parseConfig(process.env);
 * if (!result.ok) throw new Error(result.problems.join('; '));
 */
export function parseConfig(env: Record<string, string | undefined>, cwd = process.cwd()): ConfigResult {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`),
    };
  }
  const vars = parsed.data;
  const nodeEnv = vars.NODE_ENV ?? 'development';
  const isProduction = nodeEnv === 'production';
  const port = vars.PORT ?? 3000;
  const listenHost = vars.HOST ?? '127.0.0.1';
  const problems: string[] = [];

  if (isProduction && vars.DATABASE_URL === undefined && vars.RAMPART_ALLOW_EMBEDDED_DATABASE !== true) {
    problems.push(
      'DATABASE_URL is required in production (to run the embedded single-process database anyway, set RAMPART_ALLOW_EMBEDDED_DATABASE=true)',
    );
  }
  if (isProduction && vars.RAMPART_MASTER_KEY === undefined) {
    problems.push('RAMPART_MASTER_KEY is required in production; generated development keys are refused');
  }
  if (isProduction && vars.PUBLIC_URL === undefined) {
    problems.push('PUBLIC_URL is required in production (the https:// address users reach Rampart at)');
  }
  if (isProduction && vars.PUBLIC_URL !== undefined && !vars.PUBLIC_URL.startsWith('https://')) {
    problems.push('PUBLIC_URL must be an https:// URL in production');
  }
  // Even a loopback origin: in production it would hand the user's session to any program that
  // listens on that port of the user's own machine.
  const plainHttpCorsOrigin = vars.RAMPART_CORS_ORIGINS?.find((origin) => origin.startsWith('http://'));
  if (isProduction && plainHttpCorsOrigin !== undefined) {
    problems.push(`RAMPART_CORS_ORIGINS must list only https:// origins in production (got ${plainHttpCorsOrigin})`);
  }
  if (isProduction && vars.SMTP_URL === undefined) {
    problems.push('SMTP_URL is required in production (verification and password reset links are sent by email)');
  }
  if ((vars.TLS_CERT_FILE === undefined) !== (vars.TLS_KEY_FILE === undefined)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  const servesTls = vars.TLS_CERT_FILE !== undefined || vars.TLS_KEY_FILE !== undefined;
  // Rampart then answers only https: an http PUBLIC_URL would name an address that does not work,
  // fail the Origin check of every browser request, and lose the Secure cookies.
  if (servesTls && vars.PUBLIC_URL !== undefined && !vars.PUBLIC_URL.startsWith('https://')) {
    problems.push('PUBLIC_URL must be an https:// URL when TLS_CERT_FILE and TLS_KEY_FILE are set');
  }
  if (vars.HTTP_REDIRECT_PORT !== undefined && !servesTls) {
    problems.push('HTTP_REDIRECT_PORT needs TLS_CERT_FILE and TLS_KEY_FILE: it redirects to the HTTPS that Rampart serves itself');
  }
  // Port 0 asks the system for a free port, so both may say 0.
  if (vars.HTTP_REDIRECT_PORT !== undefined && vars.HTTP_REDIRECT_PORT !== 0 && vars.HTTP_REDIRECT_PORT === port) {
    problems.push('HTTP_REDIRECT_PORT must differ from PORT');
  }
  // RFC 9116 requires Expires: a contact published without it would be trusted forever.
  if ((vars.RAMPART_SECURITY_CONTACTS === undefined) !== (vars.RAMPART_SECURITY_TXT_EXPIRES === undefined)) {
    problems.push('RAMPART_SECURITY_CONTACTS and RAMPART_SECURITY_TXT_EXPIRES must be set together');
  }
  if (vars.RAMPART_SECURITY_POLICY_URL !== undefined && vars.RAMPART_SECURITY_CONTACTS === undefined) {
    problems.push('RAMPART_SECURITY_POLICY_URL needs RAMPART_SECURITY_CONTACTS (and RAMPART_SECURITY_TXT_EXPIRES)');
  }
  if (problems.length > 0) return { ok: false, problems };

  const dataDir = path.resolve(cwd, vars.RAMPART_DATA_DIR ?? '.rampart');
  const tls =
    vars.TLS_CERT_FILE !== undefined && vars.TLS_KEY_FILE !== undefined
      ? { certFile: path.resolve(cwd, vars.TLS_CERT_FILE), keyFile: path.resolve(cwd, vars.TLS_KEY_FILE) }
      : undefined;
  // A loopback or wildcard listener is reached as `localhost`: the console's passkeys need a host name
  // (a WebAuthn RP id cannot be an IP address), and browsers treat http://localhost as a secure context.
  const reachableHost = listenHost === '0.0.0.0' || listenHost === '::' || isLoopbackHost(listenHost) ? 'localhost' : listenHost;
  const defaultPublicUrl = `${tls ? 'https' : 'http'}://${hostForUrl(reachableHost)}:${port}`;
  const publicUrl = vars.PUBLIC_URL ?? defaultPublicUrl;
  const webauthn = webauthnSettings(publicUrl, vars.RAMPART_WEBAUTHN_RP_ID, vars.RAMPART_WEBAUTHN_ORIGINS);
  if (!webauthn.ok) return { ok: false, problems: [webauthn.problem] };
  const corsOrigins = vars.RAMPART_CORS_ORIGINS ?? [];
  // Rampart's own pages are same-origin and need no CORS; listing their origin would also let a
  // request the browser marks cross-site pass the CSRF origin check by naming it.
  if (corsOrigins.includes(new URL(publicUrl).origin)) {
    return { ok: false, problems: [`RAMPART_CORS_ORIGINS must not list PUBLIC_URL's own origin (${new URL(publicUrl).origin})`] };
  }

  return {
    ok: true,
    config: {
      nodeEnv,
      host: listenHost,
      port,
      publicUrl,
      database:
        vars.DATABASE_URL === undefined
          ? { kind: 'embedded', dataDir: path.join(dataDir, 'pgdata') }
          : { kind: 'postgres', url: vars.DATABASE_URL },
      dataDir,
      masterKey: vars.RAMPART_MASTER_KEY,
      logLevel: vars.LOG_LEVEL ?? 'info',
      trustProxy: vars.TRUST_PROXY ?? false,
      tls,
      httpRedirectPort: vars.HTTP_REDIRECT_PORT,
      // Two years: what the seeds promise for their audit logs.
      auditRetentionDays: vars.RAMPART_AUDIT_RETENTION_DAYS ?? 730,
      mail: { smtpUrl: vars.SMTP_URL, from: vars.MAIL_FROM ?? `Rampart <no-reply@${new URL(publicUrl).hostname}>` },
      hibpApiUrl: vars.HIBP_API_URL ?? 'https://api.pwnedpasswords.com',
      // Ten minutes: long enough to finish what the re-authentication was for, short enough that a
      // session left open is not a standing licence to change the account's factors.
      stepUpMinutes: vars.RAMPART_STEP_UP_MINUTES ?? 10,
      rateLimitPerMinute: vars.RAMPART_RATE_LIMIT_PER_MINUTE ?? 60,
      webauthn: { rpId: webauthn.rpId, origins: webauthn.origins },
      corsOrigins,
      redisUrl: vars.REDIS_URL,
      apiKeyPeppers: { current: vars.RAMPART_API_KEY_PEPPER, previous: vars.RAMPART_API_KEY_PREVIOUS_PEPPERS ?? [] },
      securityTxt:
        vars.RAMPART_SECURITY_CONTACTS !== undefined && vars.RAMPART_SECURITY_TXT_EXPIRES !== undefined
          ? { contacts: vars.RAMPART_SECURITY_CONTACTS, expires: vars.RAMPART_SECURITY_TXT_EXPIRES, policyUrl: vars.RAMPART_SECURITY_POLICY_URL }
          : undefined,
      sessions: {
        // 8 hours idle (the working day); 12 hours absolute: OWASP ASVS 4.0.3 V3.3.2 at level 2.
        idleTimeoutMinutes: vars.RAMPART_SESSION_IDLE_MINUTES ?? 480,
        absoluteLifetimeHours: vars.RAMPART_SESSION_LIFETIME_HOURS ?? 12,
      },
      // Three seconds: no person types an email address and a password faster; many bots post at once.
      formMinFillSeconds: vars.RAMPART_FORM_MIN_FILL_SECONDS ?? 3,
    },
  };
}

/**
 * The relying party of passkeys: by default the public URL's host name and origin. An explicit RP id
 * must be that host or a parent domain of every allowed origin (a browser refuses anything else, and
 * a passkey registered under one RP id cannot be used under another, so it is checked at start-up).
 */
function webauthnSettings(
  publicUrl: string,
  rpIdVar: string | undefined,
  originsVar: string | undefined,
): { ok: true; rpId: string; origins: string[] } | { ok: false; problem: string } {
  const origins = originsVar === undefined ? [new URL(publicUrl).origin] : originsVar.split(',').map((entry) => entry.trim());
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin || !/^https?:$/.test(new URL(origin).protocol)) {
      return { ok: false, problem: `RAMPART_WEBAUTHN_ORIGINS must be a comma-separated list of origins such as https://app.example.com (got ${JSON.stringify(origin)})` };
    }
  }
  const rpId = (rpIdVar ?? new URL(origins[0]!).hostname).toLowerCase();
  for (const origin of origins) {
    const hostname = new URL(origin).hostname;
    if (hostname !== rpId && !hostname.endsWith(`.${rpId}`)) {
      return { ok: false, problem: `RAMPART_WEBAUTHN_RP_ID ${rpId} must be the host of ${origin} or a parent domain of it` };
    }
  }
  return { ok: true, rpId, origins };
}

/** A host as it appears in a URL: IPv6 addresses go in brackets. */
export function hostForUrl(hostname: string): string {
  return isIP(hostname) === 6 ? `[${hostname}]` : hostname;
}

/**
 * Whether a host name or address is this machine's own: where Rampart listens, or where a request
 * came from (an IPv4 client on a dual-stack socket shows as `::ffff:127.…`).
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || /^(::ffff:)?127\./.test(hostname);
}

/** Formats a failed parse as the single line the CLI prints before exiting. */
export function formatConfigProblems(problems: readonly string[]): string {
  return `rampart: invalid configuration: ${problems.join('; ')}`;
}
