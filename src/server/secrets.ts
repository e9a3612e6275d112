import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RampartConfig } from './config.js';

export const MASTER_KEY_FILE = 'master.key';

export type MasterKeySource = 'environment' | 'development-file' | 'generated';

/**
 * Returns the master key: from RAMPART_MASTER_KEY, or — in development and test only — from
 * `<dataDir>/master.key`, generating it there once (mode 0600) when it does not exist. Production
 * never reaches the file: the configuration refuses to start without RAMPART_MASTER_KEY.
 */
export async function resolveMasterKey(
  config: Pick<RampartConfig, 'masterKey' | 'nodeEnv' | 'dataDir'>,
): Promise<{ key: Buffer; source: MasterKeySource; file?: string }> {
  if (config.masterKey !== undefined) return { key: config.masterKey, source: 'environment' };
  if (config.nodeEnv === 'production') {
    throw new Error('RAMPART_MASTER_KEY is required in production; generated development keys are refused');
  }
  const file = path.join(config.dataDir, MASTER_KEY_FILE);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails if the file exists, so two processes starting together cannot overwrite each other's key.
    const key = randomBytes(32);
    await writeFile(file, `${key.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
    return { key, source: 'generated', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key; delete it to generate a new one`);
  return { key, source: 'development-file', file };
}
