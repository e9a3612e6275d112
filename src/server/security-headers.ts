/**
 * Headers every API response carries, errors and 404s included. The API serves JSON only, so its
 * Content-Security-Policy allows nothing at all; the console will get its own policy.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  // API answers are per-user and may hold personal data: no shared or browser cache keeps them.
  'cache-control': 'no-store',
};

const HSTS = 'max-age=63072000; includeSubDomains; preload';

/** The headers for every response: the API set, plus HSTS when Rampart is reached over HTTPS. */
export function securityHeaders(options: { isHttps: boolean }): Readonly<Record<string, string>> {
  return options.isHttps ? { ...API_SECURITY_HEADERS, 'strict-transport-security': HSTS } : API_SECURITY_HEADERS;
}
