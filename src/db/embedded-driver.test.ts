/**
 * Attack (or accident): two processes open the same embedded database directory — `rampart migrate`
 * while `rampart start` runs, or two `npm start`s — and their interleaved writes corrupt it, losing
 * committed data. The directory lock refuses the second opener.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { EmbeddedDatabaseInUseError } from './embedded-driver.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'rampart-lock-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('the embedded database directory', () => {
  it('cannot be opened twice at once, and can be reopened once closed', async () => {
    const dataDir = path.join(root, 'twice');
    const first = await openDatabase({ kind: 'embedded', dataDir });
    await expect(openDatabase({ kind: 'embedded', dataDir })).rejects.toThrow(EmbeddedDatabaseInUseError);
    // The same directory spelled differently is still the same directory.
    await expect(openDatabase({ kind: 'embedded', dataDir: `${dataDir}/` })).rejects.toThrow(EmbeddedDatabaseInUseError);
    await first.transactionAsOwner((tx) => tx.exec('CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)'));
    await first.close();

    const again = await openDatabase({ kind: 'embedded', dataDir });
    const { rows } = await again.transactionAsOwner((tx) => tx.query('SELECT id FROM kept'));
    expect(rows).toEqual([{ id: 1 }]);
    await again.close();
  });

  it('is refused while another live process holds it', async () => {
    const dataDir = path.join(root, 'held');
    await writeFile(`${dataDir}.lock`, `${process.ppid}\n`);
    await expect(openDatabase({ kind: 'embedded', dataDir })).rejects.toThrow(/in use by process/);
    await rm(`${dataDir}.lock`);
  });

  it.each([
    ['a process that no longer exists', '2147483646'],
    ['an earlier process that had the same PID as this one (a restarted container)', String(process.pid)],
  ])('takes over a lock left by %s', async (_case, holder) => {
    const dataDir = path.join(root, `stale-${holder}`);
    await writeFile(`${dataDir}.lock`, `${holder}\n`);
    const database = await openDatabase({ kind: 'embedded', dataDir });
    await database.close();
  });
});
