import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../../src/audit/actions.js';

const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('### Audited actions'));
const documented: Record<string, string> = Object.fromEntries(
  [...section.matchAll(/^\| `([a-z_]+\.[a-z_]+)` \| (.+) \|$/gm)].map((match) => [match[1] ?? '', match[2] ?? '']),
);

describe('docs/security.md, "Audited actions"', () => {
  it('lists exactly the actions of the catalogue, with their descriptions', () => {
    expect(documented).toEqual(AUDIT_ACTIONS);
  });
});
