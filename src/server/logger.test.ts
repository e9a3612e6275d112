import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), text: () => lines.join('') };
}

describe('logging', () => {
  it('censors credentials wherever a log call passes them', () => {
    const { logger, text } = capture();
    logger.info({
      req: { headers: { authorization: 'Bearer rk_live_abc', cookie: 'rampart_session=xyz' } },
      body: { email: 'a@b.example', password: 'correct horse battery', token: 'tok_123' },
      secret: 'shh',
    });
    expect(text()).not.toMatch(/rk_live_abc|rampart_session=xyz|correct horse|tok_123|shh/);
    expect(text()).toContain('a@b.example');
    expect(text()).toContain('[redacted]');
  });

  it('keeps secret values of query strings out of logged URLs', () => {
    expect(redactUrl('/verify-email?token=abc123&next=%2Fhome')).toBe('/verify-email?token=%5Bredacted%5D&next=%2Fhome');
    expect(redactUrl('/x?Code=1&page=2')).toBe('/x?Code=%5Bredacted%5D&page=2');
    expect(redactUrl('/plain/path')).toBe('/plain/path');
  });
});
