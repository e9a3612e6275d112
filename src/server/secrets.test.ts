import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MASTER_KEY_FILE, resolveMasterKey } from './secrets.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'rampart-secrets-')), 'data');
});
afterEach(() => rm(path.dirname(dataDir), { recursive: true, force: true }));

describe('resolveMasterKey', () => {
  it('uses the configured key as it is', async () => {
    const key = Buffer.alloc(32, 1);
    expect(await resolveMasterKey({ masterKey: key, nodeEnv: 'production', dataDir })).toEqual({ key, source: 'environment' });
  });

  it('generates a development key once, readable by its owner only, then reuses it', async () => {
    const first = await resolveMasterKey({ masterKey: undefined, nodeEnv: 'development', dataDir });
    expect(first.source).toBe('generated');
    expect(first.key).toHaveLength(32);
    const file = path.join(dataDir, MASTER_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const second = await resolveMasterKey({ masterKey: undefined, nodeEnv: 'development', dataDir });
    expect(second).toMatchObject({ source: 'development-file' });
    expect(second.key.equals(first.key)).toBe(true);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.key.toString('base64'));
  });

  it('never generates or reads a key file in production', async () => {
    await expect(resolveMasterKey({ masterKey: undefined, nodeEnv: 'production', dataDir })).rejects.toThrow(
      /required in production/,
    );
    await expect(stat(dataDir)).rejects.toThrow();
  });

  it('refuses a damaged key file rather than silently replacing it', async () => {
    await resolveMasterKey({ masterKey: undefined, nodeEnv: 'development', dataDir });
    await writeFile(path.join(dataDir, MASTER_KEY_FILE), 'short\n');
    await expect(resolveMasterKey({ masterKey: undefined, nodeEnv: 'development', dataDir })).rejects.toThrow(
      /does not hold a 32-byte base64 key/,
    );
  });
});
