import type { Logger } from 'pino';
import { deleteEarlyAccessRequests, listEarlyAccessRequests } from '../forms/early-access.js';
import type { RampartConfig } from '../server/config.js';
import { openConfiguredDatabase } from '../server/start.js';

export const EARLY_ACCESS_USAGE = `Usage:
  rampart early-access list                   print every request as a JSON line (id, email, name, message, created_at), oldest first
  rampart early-access delete --email EMAIL   delete every request of that address (any case), print how many
  rampart early-access purge --before DATE    delete every request made before DATE, print how many

DATE is ISO 8601: 2025-01-31 (midnight UTC) or 2025-01-31T12:00:00Z / +02:00 (an offset is required).
Runs as the database owner that ran the migrations: requests may only add a row, never read or delete one.`;

const EXIT_USAGE = 64;

/** A date, or a date and time with an explicit offset: a bare local time would mean what the machine's zone says. */
const ISO_MOMENT = /^(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** The moment an ISO 8601 argument names, or undefined when it names none (2025-02-30 included: Date would roll it over). */
export function parseIsoMoment(value: string): Date | undefined {
  const match = ISO_MOMENT.exec(value);
  if (match === null) return undefined;
  const day = match[1]!;
  const isRealDay = new Date(`${day}T00:00:00Z`).toISOString().startsWith(day);
  const moment = new Date(value);
  return isRealDay && !Number.isNaN(moment.getTime()) ? moment : undefined;
}

type EarlyAccessCommand = { kind: 'list' } | { kind: 'delete'; email: string } | { kind: 'purge'; before: Date };

function parseCommand(args: readonly string[]): EarlyAccessCommand | undefined {
  const [subcommand, option, value, ...rest] = args;
  if (rest.length > 0) return undefined;
  if (subcommand === 'list') return option === undefined ? { kind: 'list' } : undefined;
  if (subcommand === 'delete' && option === '--email' && value !== undefined && value.trim().length >= 3) {
    return { kind: 'delete', email: value.trim() };
  }
  if (subcommand === 'purge' && option === '--before' && value !== undefined) {
    const before = parseIsoMoment(value);
    return before === undefined ? undefined : { kind: 'purge', before };
  }
  return undefined;
}

/** `rampart early-access …`: prints the requests, or how many were deleted, on stdout; returns the exit code. */
export async function runEarlyAccessCommand(args: readonly string[], config: RampartConfig, logger: Logger): Promise<number> {
  const command = parseCommand(args);
  if (command === undefined) {
    process.stderr.write(`${EARLY_ACCESS_USAGE}\n`);
    return EXIT_USAGE;
  }
  const database = await openConfiguredDatabase(config, logger);
  try {
    if (command.kind === 'list') {
      for (const request of await listEarlyAccessRequests(database)) {
        const { createdAt, ...fields } = request;
        process.stdout.write(`${JSON.stringify({ ...fields, created_at: createdAt.toISOString() })}\n`);
      }
      return 0;
    }
    if (command.kind === 'delete') {
      const deleted = await deleteEarlyAccessRequests(database, { email: command.email });
      process.stdout.write(`deleted ${deleted} early-access request(s) of ${command.email}\n`);
      return 0;
    }
    const deleted = await deleteEarlyAccessRequests(database, { before: command.before });
    process.stdout.write(`deleted ${deleted} early-access request(s) made before ${command.before.toISOString()}\n`);
    return 0;
  } finally {
    await database.close();
  }
}
