import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(`${root}docs/security.md`, 'utf8');
/** Splits a table row into its cells (no cell of these tables contains a pipe). */
const cells = (row: string) => row.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, ''));
/** The rows of the claim tables (claim | enforced in | proven by); other tables have other widths. */
const rows = doc
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| claim') && cells(line).length === 3);

describe('docs/security.md', () => {
  it('has claims', () => {
    expect(rows.length).toBeGreaterThan(10);
  });

  it.each(rows.map((row) => [cells(row)[0]!.slice(0, 60), row]))('names real code and real tests: %s', (_claim, row) => {
    const [, enforcedIn = '', provenBy = ''] = cells(row);
    for (const [, file] of enforcedIn.matchAll(/`((?:src|migrations)\/[^`]+)`/g)) {
      expect(existsSync(`${root}${file}`), file).toBe(true);
    }
    // "proven by": `file` › "test", "test"; `file` › "test"
    const proofs = [...provenBy.matchAll(/`([^`]+\.test\.ts)` › ((?:"[^"]+"(?:, )?)+)/g)];
    expect(proofs.length, 'at least one test').toBeGreaterThan(0);
    for (const [, file, names = ''] of proofs) {
      const source = readFileSync(`${root}${file}`, 'utf8');
      for (const [, name] of names.matchAll(/"([^"]+)"/g)) {
        expect(source, `${file} › ${name}`).toContain(name);
      }
    }
  });
});
