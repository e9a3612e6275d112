import { createHash } from 'node:crypto';
import { normalizePassword } from '../crypto/password-hash.js';

/**
 * What the breach corpus says about a password; `unavailable` means it could not be asked.
 *
 * @example
 * const result: BreachCheckResult = await isBreached(password); // 'breached' | 'not_breached' | 'unavailable'
 */
export type BreachCheckResult = 'breached' | 'not_breached' | 'unavailable';

/**
 * Looks a password up in a breach corpus. Never rejects for an unreachable or misbehaving service:
 * that answer is `unavailable`.
 *
 * @example
 * const offline: BreachedPasswordCheck = async () => 'unavailable';
 */
export type BreachedPasswordCheck = (password: string) => Promise<BreachCheckResult>;

/**
 * How to reach the range API and whom to tell when it cannot be reached.
 *
 * @example
 * const options: BreachedPasswordCheckOptions = { apiUrl: 'https://api.pwnedpasswords.com', timeoutMs: 2000 };
 */
export interface BreachedPasswordCheckOptions {
  /** Base URL of a Pwned Passwords range API, e.g. `https://api.pwnedpasswords.com`. */
  apiUrl: string;
  /** How long one lookup may take, body included, before it counts as unavailable. Default 3000. */
  timeoutMs?: number | undefined;
  /** Told why a lookup failed, to log a warning. The reason never contains the password or its hash. */
  onUnavailable?: ((reason: string) => void) | undefined;
  /** Replaces the global `fetch`, e.g. to go through a proxy-aware client. */
  fetchImpl?: typeof fetch | undefined;
}

const DEFAULT_TIMEOUT_MS = 3000;
// A real range answer, padded, is a few tens of kilobytes; a body far larger is not one.
const MAX_BODY_BYTES = 1024 * 1024;
const PREFIX_LENGTH = 5;
const RANGE_LINE = /^([0-9A-Fa-f]{35}):(\d{1,15})$/;

/**
 * Builds a breach lookup that speaks the Have I Been Pwned range protocol with k-anonymity: only the
 * first five hex digits of the SHA-1 of the NFKC-normalised password leave the process, and the
 * comparison with the hundreds of suffixes that come back happens here. Padding is requested so the
 * response size does not hint at the prefix either; padding lines carry a count of 0 and never match.
 * Network errors, timeouts, unexpected statuses and malformed bodies all become `unavailable`.
 *
 * @example
 * const isBreached = createBreachedPasswordCheck({
 *   apiUrl: 'https://api.pwnedpasswords.com',
 *   onUnavailable: (reason) => logger.warn({ reason }, 'breached-password lookup unavailable'),
 * });
 * await isBreached('P@ssw0rd'); // 'breached'
 */
export function createBreachedPasswordCheck(options: BreachedPasswordCheckOptions): BreachedPasswordCheck {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const baseUrl = parseApiUrl(options.apiUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive integer');
  const { onUnavailable } = options;
  if (onUnavailable !== undefined && typeof onUnavailable !== 'function') {
    throw new TypeError('onUnavailable must be a function');
  }
  const fetchImpl = options.fetchImpl ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('fetchImpl must be a function');

  const unavailable = (reason: string): BreachCheckResult => {
    try {
      onUnavailable?.(reason);
    } catch {
      // A failing logger must not turn a degraded lookup into a failed sign-up.
    }
    return 'unavailable';
  };

  return async (password: string): Promise<BreachCheckResult> => {
    if (typeof password !== 'string') throw new TypeError('password must be a string');
    const digest = createHash('sha1').update(normalizePassword(password), 'utf8').digest('hex').toUpperCase();
    const prefix = digest.slice(0, PREFIX_LENGTH);
    const suffix = digest.slice(PREFIX_LENGTH);

    let body: string;
    try {
      const response = await fetchImpl(`${baseUrl}/range/${prefix}`, {
        headers: { 'Add-Padding': 'true', Accept: 'text/plain' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        return unavailable(`unexpected HTTP status ${response.status}`);
      }
      const text = await readBoundedText(response);
      if (text === undefined) return unavailable(`response body larger than ${MAX_BODY_BYTES} bytes`);
      body = text;
    } catch (error) {
      return unavailable(describeFailure(error, timeoutMs));
    }

    let found = false;
    let lines = 0;
    for (const line of body.split(/\r?\n/u)) {
      if (line === '') continue;
      const match = RANGE_LINE.exec(line);
      if (match === null) return unavailable('malformed response body');
      lines += 1;
      if (match[1]!.toUpperCase() === suffix && Number(match[2]) > 0) found = true;
    }
    // Every prefix has hundreds of entries in the real corpus, so an empty answer is a broken server.
    if (lines === 0) return unavailable('empty response body');
    return found ? 'breached' : 'not_breached';
  };
}

function parseApiUrl(apiUrl: unknown): string {
  if (typeof apiUrl !== 'string') throw new TypeError('apiUrl must be a string');
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new TypeError('apiUrl must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('apiUrl must be an http(s) URL');
  // The range path is appended to the base, which a query or fragment would swallow.
  if (url.search !== '' || url.hash !== '') throw new TypeError('apiUrl must not have a query or a fragment');
  return url.href.replace(/\/+$/u, '');
}

async function readBoundedText(response: Response): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Built from error names and codes only: free-form messages can quote the request, and the reason
 * ends up in logs.
 */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error || error instanceof DOMException) {
    if (error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
    if (error.name === 'AbortError') return 'request aborted';
    const cause = (error as { cause?: unknown }).cause;
    const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
    if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return `request failed (${code})`;
    return `request failed (${error.name})`;
  }
  return 'request failed';
}
