/**
 * An authenticator code as the server compares it. Codes are often typed or pasted with spaces
 * ("123 456"), which the server does not expect.
 */
export function normalizeCode(code: string): string {
  return code.replace(/\s/g, '');
}
