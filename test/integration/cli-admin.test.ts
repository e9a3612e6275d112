import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliTestBed, type CliTestBed } from '../fixtures/cli.js';
import type { TwoWorkspaces } from '../fixtures/seed.js';

let bed: CliTestBed;
let ids: TwoWorkspaces;
let aliceEmail: string;
const rampart = (args: string[]) => bed.rampart(args);

beforeAll(async () => {
  bed = await createCliTestBed('cli-admin');
  ids = bed.ids;
  aliceEmail = `${ids.workspaceA.slice(0, 8)}.alice@a.example`;
});
afterAll(() => bed.destroy());

describe('rampart admin', () => {
  it('grants, lists and revokes the platform super-admin flag, each change in the platform log', () => {
    expect(rampart(['admin', 'list']).stdout).toContain('no platform super-admins');
    const grant = rampart(['admin', 'grant', aliceEmail.toUpperCase()]);
    expect(grant.stderr).toBe('');
    expect(grant.status).toBe(0);
    expect(rampart(['admin', 'grant', aliceEmail]).stdout).toContain('unchanged');
    expect(rampart(['admin', 'list']).stdout).toContain(aliceEmail);
    expect(rampart(['admin', 'revoke', aliceEmail]).status).toBe(0);
    expect(rampart(['admin', 'list']).stdout).toContain('no platform super-admins');

    const verify = rampart(['audit', 'verify']);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain('platform log: ok, 2 event(s)');
    expect(verify.stdout).toContain(`account ${ids.alice}: ok, 3 event(s)`);
  });

  it('refuses an unknown email (exit 67) and a malformed command (exit 64), changing nothing', () => {
    const unknown = rampart(['admin', 'grant', 'nobody@example.com']);
    expect(unknown.status).toBe(67);
    expect(unknown.stderr).toContain('no account');
    expect(rampart(['admin', 'grant']).status).toBe(64);
    expect(rampart(['admin', 'grant', aliceEmail, 'extra']).status).toBe(64);
    expect(rampart(['admin', 'promote', aliceEmail]).status).toBe(64);
    expect(rampart(['admin', 'list']).stdout).toContain('no platform super-admins');
  });

  it('is the only way to set the flag: the app role cannot write it', async () => {
    const privileges = await bed.withDatabase((database) =>
      database.transactionAsOwner((tx) =>
        tx.query<{ privilege: string; granted: boolean }>(
          `SELECT p AS privilege, has_table_privilege('rampart_app', 'rampart.platform_admins', p) AS granted
             FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p`,
        ),
      ),
    );
    expect(Object.fromEntries(privileges.rows.map((row) => [row.privilege, row.granted]))).toEqual({
      SELECT: true,
      INSERT: false,
      UPDATE: false,
      DELETE: false,
    });
  });
});
