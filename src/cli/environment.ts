import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/**
 * The process environment over the optional `.env` file of the working directory: a variable set in
 * the real environment always wins, so a deployment can override a developer's file.
 */
export function readEnvironment(cwd = process.cwd()): Record<string, string | undefined> {
  let fileVariables: Record<string, string> = {};
  try {
    fileVariables = parseEnv(readFileSync(path.join(cwd, '.env'), 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { ...fileVariables, ...process.env };
}
