import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/server/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
/** Rows of the catalogue table: | `CODE` | status | when | */
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((match) => [match[1], Number(match[2])]),
);

describe('docs/errors.md', () => {
  it('documents every error code with its status', () => {
    const expected = Object.fromEntries(Object.entries(ERROR_CATALOG).map(([code, { status }]) => [code, status]));
    expect(Object.fromEntries(documented)).toEqual(expected);
  });
});
