import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { toAppError } from './error-handler.js';

describe('toAppError', () => {
  it('keeps an AppError as it is', () => {
    const error = new AppError('NOT_FOUND');
    expect(toAppError(error)).toBe(error);
  });

  it('keeps a client error a client error: a body cut off by a departed client is not a 500', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });
    expect(toAppError(aborted)).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
    const headerTooLarge = Object.assign(new Error('too large'), { statusCode: 431 });
    expect(toAppError(headerTooLarge)).toMatchObject({ code: 'BAD_REQUEST', status: 431 });
  });

  it('turns anything else into a bare INTERNAL_ERROR that keeps the cause for the log', () => {
    const cause = new Error('relation "x" does not exist');
    expect(toAppError(cause)).toMatchObject({ code: 'INTERNAL_ERROR', status: 500, cause, publicMessage: undefined });
  });
});
