import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scopeTableMarkdown } from '../../src/api-keys/scopes.js';

const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
const START = '<!-- scope-table:start (printed from src/api-keys/scopes.ts) -->';
const END = '<!-- scope-table:end -->';

describe('docs/security.md', () => {
  it('prints the API key scopes exactly as the registry defines them', () => {
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start, `docs/security.md needs the marker ${START}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    // On a difference, paste the expected table between the markers.
    expect(doc.slice(start + START.length, end).trim()).toBe(scopeTableMarkdown());
  });
});
