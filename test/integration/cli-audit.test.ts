import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliTestBed, type CliTestBed } from '../fixtures/cli.js';
import type { TwoWorkspaces } from '../fixtures/seed.js';

let bed: CliTestBed;
let ids: TwoWorkspaces;
const audit = (args: string[]) => bed.rampart(['audit', ...args]);

beforeAll(async () => {
  bed = await createCliTestBed('cli-audit');
  ids = bed.ids;
});
afterAll(() => bed.destroy());

describe('rampart audit', () => {
  it('verifies every chain, workspace and account, and exits 0', () => {
    const result = audit(['verify']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`workspace ${ids.workspaceA}: ok, 1 event(s)`);
    expect(result.stdout).toContain(`workspace ${ids.workspaceB}: ok, 1 event(s)`);
    expect(result.stdout).toContain(`account ${ids.alice}: ok, 1 event(s)`);
    expect(result.stdout).toContain('platform log: ok, 0 event(s)');
  });

  it('names the first broken event and exits 2 when a chain was tampered with', async () => {
    await bed.withDatabase((database) =>
      database.transactionAsOwner(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query(`UPDATE rampart.audit_events SET actor_type = 'system', actor_id = NULL WHERE workspace_id = $1`, [
          ids.workspaceB,
        ]);
      }),
    );
    const result = audit(['verify', '--workspace', ids.workspaceB]);
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(new RegExp(`workspace ${ids.workspaceB}: BROKEN: event 1 \\(.+\\) was altered after it was recorded`));
  });

  it('purges nothing younger than the retention period, and leaves the broken chain alone (exit 2)', () => {
    const result = audit(['purge']);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain(`workspace ${ids.workspaceB}: not purged: refusing to purge a broken chain`);
    // Two workspaces and three users (Carol has no account events yet, but is listed all the same),
    // less workspace B, tampered with above.
    expect(result.stdout).toMatch(/removed 0 event\(s\) recorded before .+ from 5 chain\(s\)\n$/);
    expect(audit(['purge', '--workspace', ids.workspaceA]).status).toBe(0);
  });

  it.each([[['verify', '--workspace']], [['verify', '--workspace', 'not-a-uuid']], [['rewrite']], [['purge', '--all']]])(
    'refuses %j with the usage text and exit 64',
    (args) => {
      const result = audit(args);
      expect(result.status).toBe(64);
      expect(result.stderr).toContain('rampart audit verify [--workspace ID]');
      expect(result.stdout).toBe('');
    },
  );
});
