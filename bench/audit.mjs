// The cost of the audit log: the same action (a user updating their own row) committed with its audit
// event, against the same action with a plain insert into a log table with the same columns.
// Concurrent workers for a fixed time, rounds alternating, median of rounds; once with every worker
// in its own workspace, once with all of them in one (the hottest single workspace, where appends
// queue on the chain head). Runs on DATABASE_URL (default the local server), through the library in
// ../dist. Usage: `npm run build` at the root, then `node audit.mjs` here.
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { applyMigrations, AuditLog, loadMigrations, openDatabase } from '../dist/index.js';
import { freshDatabase } from './fresh-database.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const workers = Number(process.env.BENCH_WORKERS ?? 16);

const database = await openDatabase({ kind: 'postgres', url: await freshDatabase('rampart_bench_audit') }, { poolSize: workers });
await applyMigrations(database, await loadMigrations());
const auditLog = AuditLog.fromMasterKey(randomBytes(32));

// The plain log: the same columns, no chain, no trigger. (Outside the rampart schema: bench only.)
const users = Array.from({ length: workers }, () => randomUUID());
const workspaces = Array.from({ length: workers }, () => randomUUID());
await database.transactionAsOwner(async (tx) => {
  await tx.exec(`CREATE TABLE public.plain_log (LIKE rampart.audit_events INCLUDING DEFAULTS);
                 GRANT INSERT ON public.plain_log TO rampart_app;`);
  for (let i = 0; i < workers; i += 1) {
    await tx.query(`INSERT INTO rampart.users (id, email, name) VALUES ($1, $2, 'Bench')`, [users[i], `bench${i}@example.test`]);
    await tx.query(`INSERT INTO rampart.workspaces (workspace_id, name) VALUES ($1, 'Bench')`, [workspaces[i]]);
  }
  for (const workspaceId of workspaces) {
    for (const userId of users) {
      await tx.query(`INSERT INTO rampart.memberships (workspace_id, user_id, role) VALUES ($1, $2, 'member')`, [workspaceId, userId]);
    }
  }
});

const action = (tx, userId) => tx.query('UPDATE rampart.users SET updated_at = now() WHERE id = $1', [userId]);
const event = (workspaceId, userId) => ({
  action: 'workspace.renamed',
  actor: { type: 'user', id: userId },
  scope: { workspaceId },
  target: { type: 'workspace', id: workspaceId },
  origin: { ip: '127.0.0.1', userAgent: 'bench', requestId: randomUUID() },
  details: { from: 'a', to: 'b' },
});
const variants = {
  audited: (tx, workspaceId, userId) => auditLog.record(tx, event(workspaceId, userId)),
  plain: (tx, workspaceId, userId) =>
    tx.query(
      `INSERT INTO public.plain_log (workspace_id, seq, id, occurred_at, actor_type, actor_id, action, target_type,
                                     target_id, ip, user_agent, request_id, details, prev_hash, hash)
       VALUES ($1, 1, $2, now(), 'user', $3, 'workspace.renamed', 'workspace', $6, '127.0.0.1', 'bench', $4, $5, '', '')`,
      [workspaceId, randomUUID(), userId, randomUUID(), { from: 'a', to: 'b' }, workspaceId],
    ),
};

async function run(variant, hottest) {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    users.map(async (userId, i) => {
      const workspaceId = hottest ? workspaces[0] : workspaces[i];
      while (Date.now() < deadline) {
        await database.withTenant({ workspaceId, userId }, async (tx) => {
          await action(tx, userId);
          await variants[variant](tx, workspaceId, userId);
        });
        done += 1;
      }
    }),
  );
  return done / seconds;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = {};
for (const hottest of [false, true]) {
  await run('audited', hottest); // warm-up
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of ['plain', 'audited']) {
      const key = `${hottest ? 'hot' : 'spread'}/${variant}`;
      (results[key] ??= []).push(await run(variant, hottest));
    }
  }
}
await database.close();

console.log(`\nMachine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}; ${workers} workers, ${rounds} rounds × ${seconds} s, median.\n`);
console.log('| scenario | plain insert actions/s | audited actions/s | ratio |');
console.log('|---|---:|---:|---:|');
for (const [name, label] of [
  ['spread', `${workers} workspaces, one writer each`],
  ['hot', `hottest single workspace, ${workers} writers`],
]) {
  const plain = median(results[`${name}/plain`]);
  const audited = median(results[`${name}/audited`]);
  console.log(`| ${label} | ${Math.round(plain)} | ${Math.round(audited)} | ${(audited / plain).toFixed(2)}× |`);
}
