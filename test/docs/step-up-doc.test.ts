import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stepUpTableMarkdown } from '../../src/http/step-up-guard.js';

const START = '<!-- step-up-table:start (printed from src/http/step-up-guard.ts) -->';
const END = '<!-- step-up-table:end -->';

describe('docs/security.md, the step-up table', () => {
  it('prints the routes that need a recent authentication exactly as the code lists them', () => {
    const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start, 'the start marker is missing').toBeGreaterThan(-1);
    expect(end, 'the end marker is missing').toBeGreaterThan(start);
    expect(doc.slice(start + START.length, end).trim()).toBe(stepUpTableMarkdown());
  });
});
