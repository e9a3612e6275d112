import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { permissionTableMarkdown } from '../../src/workspaces/index.js';

const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
const START = '<!-- permission-table:start (printed from src/workspaces/permissions.ts) -->';
const END = '<!-- permission-table:end -->';

describe('docs/security.md', () => {
  it('prints the permission table exactly as the code defines it', () => {
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start, `docs/security.md needs the marker ${START}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const printed = doc.slice(start + START.length, end).trim();
    // On a difference, paste the expected table between the markers.
    expect(printed).toBe(permissionTableMarkdown());
  });
});
