import { describe, expect, it } from 'vitest';
import { redirectLocation } from './https-redirect.js';

const ORIGIN = 'https://app.example.com';

describe('redirectLocation', () => {
  it.each([
    ['/', 'https://app.example.com/'],
    ['/api/me?x=1&y=%2F', 'https://app.example.com/api/me?x=1&y=%2F'],
    // Each of these would name another host if resolved against the public URL instead of appended to it.
    ['//evil.example/x', 'https://app.example.com//evil.example/x'],
    ['/\\evil.example/x', 'https://app.example.com//evil.example/x'],
    ['/@evil.example', 'https://app.example.com/@evil.example'],
    // Raw bytes and line breaks come out percent-encoded or dropped: no header can be injected.
    ['/caf\u00e9?q=\u00e9', 'https://app.example.com/caf%C3%A9?q=%C3%A9'],
    ['/a\r\nset-cookie: x=1', 'https://app.example.com/aset-cookie:%20x=1'],
  ])('keeps %j on the public origin (open redirect)', (target, expected) => {
    const location = redirectLocation(ORIGIN, target);
    expect(location).toBe(expected);
    expect(new URL(location!).origin).toBe(ORIGIN);
  });

  it.each([['http://evil.example/api/me'], ['https://evil.example/'], ['*'], ['evil.example:443'], ['']])(
    'refuses the request target %j, which is not a path (open redirect through absolute-form)',
    (target) => {
      expect(redirectLocation(ORIGIN, target)).toBeUndefined();
    },
  );
});
