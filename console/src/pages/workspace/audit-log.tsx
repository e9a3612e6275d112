import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { AUDIT_ACTIONS } from '../../../../src/audit/actions';
import { api, unwrap } from '../../api/client';
import type { AuditEvent, AuditQuery } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { Field, SelectField } from '../../components/field';
import { Empty, Loading, Notice, Page } from '../../components/page';
import { useAction, useResource } from '../../hooks';
import { can } from '../../permissions';
import { saveFile } from '../../save-file';
import { isSignedOutError, useSession } from '../../session';
import type { WorkspaceScreenProps } from './workspace-layout';

type Filters = Omit<AuditQuery, 'cursor' | 'limit'>;
type Action = NonNullable<AuditQuery['action']>;
type ActorType = NonNullable<AuditQuery['actorType']>;

/**
 * The action catalogue, read from the server's own source (a file without imports, like the role
 * table): typed as the API's enum, so an action the API does not accept fails to compile here.
 */
const ACTIONS: readonly Action[] = Object.keys(AUDIT_ACTIONS) as (keyof typeof AUDIT_ACTIONS)[];

const ACTOR_TYPES: Record<ActorType, string> = {
  user: 'User',
  api_key: 'API key',
  system: 'System',
  super_admin: 'Platform super-admin',
};

function actorTypeLabel(type: string): string {
  return Object.hasOwn(ACTOR_TYPES, type) ? ACTOR_TYPES[type as ActorType] : type;
}

export function AuditLogPage({ workspace }: WorkspaceScreenProps) {
  const ws = workspace.id;
  const [filters, setFilters] = useState<Filters>({});
  const log = useAuditLog(ws, filters);
  const exporter = useAction();
  const [notice, setNotice] = useState<string>();

  const exportAs = async (format: 'jsonl' | 'csv') => {
    setNotice(undefined);
    const file = await exporter.run(() =>
      unwrap(api.GET('/api/workspaces/{ws}/audit-log/export', { params: { path: { ws }, query: { ...filters, format } }, parseAs: 'blob' })),
    );
    if (file === undefined) return;
    const fileName = `audit-log-${ws}.${format}`;
    saveFile(file, fileName);
    setNotice(`The export was saved as ${fileName}.`);
    // The export is itself an event of the log.
    log.reload();
  };

  return (
    <Page title="Audit log">
      <ChainStatus ws={ws} />
      <FilterForm onApply={setFilters} />
      {can(workspace.role, 'audit:export') && (
        <>
          <h2>Export</h2>
          <p className="hint">Exports every event that matches the filters above, and is recorded in the log.</p>
          {notice !== undefined && <Notice>{notice}</Notice>}
          <ErrorNotice error={exporter.error} />
          <div className="actions">
            <button type="button" onClick={() => void exportAs('jsonl')} disabled={exporter.isPending}>
              Export JSON Lines
            </button>
            <button type="button" onClick={() => void exportAs('csv')} disabled={exporter.isPending}>
              Export CSV
            </button>
          </div>
        </>
      )}
      <h2>Events</h2>
      <EventList log={log} />
    </Page>
  );
}

function ChainStatus({ ws }: { ws: string }) {
  const verification = useResource(() => unwrap(api.GET('/api/workspaces/{ws}/audit-log/verify', { params: { path: { ws } } })), ws);
  const result = verification.data;
  return (
    <div className="actions">
      {verification.isLoading ? (
        <Loading label="Verifying the chain…" />
      ) : verification.error ? (
        <ErrorNotice error={verification.error} />
      ) : result === undefined ? null : result.ok ? (
        <span className="badge ok" data-testid="chain-status">
          Chain verified ({result.events} {result.events === 1 ? 'event' : 'events'} checked)
        </span>
      ) : (
        <span className="badge bad" data-testid="chain-status">
          {result.firstBadEvent ? `Chain broken at event ${result.firstBadEvent.seq}` : 'Chain broken'}
          {result.reason !== undefined && `: ${result.reason}`}
        </span>
      )}
      <button type="button" onClick={verification.reload} disabled={verification.isLoading}>
        Verify again
      </button>
    </div>
  );
}

/** A `datetime-local` value (the browser's local time) as ISO 8601, or undefined when empty. */
function isoFromLocal(value: string): string | undefined {
  const time = new Date(value).getTime();
  return value === '' || Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

function FilterForm({ onApply }: { onApply: (filters: Filters) => void }) {
  const [action, setAction] = useState<Action | ''>('');
  const [actorType, setActorType] = useState<ActorType | ''>('');
  const [actorId, setActorId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const fromIso = isoFromLocal(from);
    const toIso = isoFromLocal(to);
    onApply({
      ...(action === '' ? {} : { action }),
      ...(actorType === '' ? {} : { actorType }),
      ...(actorId.trim() === '' ? {} : { actorId: actorId.trim() }),
      ...(fromIso === undefined ? {} : { from: fromIso }),
      ...(toIso === undefined ? {} : { to: toIso }),
    });
  };
  return (
    <>
      <h2>Filters</h2>
      <form onSubmit={submit}>
        <SelectField<Action | ''>
          label="Action"
          name="action"
          value={action}
          onChange={setAction}
          options={[{ value: '', label: 'Any action' }, ...ACTIONS.map((value) => ({ value, label: value }))]}
        />
        <SelectField<ActorType | ''>
          label="Actor type"
          name="actorType"
          value={actorType}
          onChange={setActorType}
          options={[{ value: '', label: 'Any actor type' }, ...Object.entries(ACTOR_TYPES).map(([value, label]) => ({ value: value as ActorType, label }))]}
        />
        <Field label="Actor id" name="actorId" value={actorId} onChange={setActorId} autoComplete="off" hint="Optional: the id of a user or an API key." />
        <Field label="From" type="datetime-local" name="from" value={from} onChange={setFrom} hint="Your local time; events at or after it." />
        <Field label="To" type="datetime-local" name="to" value={to} onChange={setTo} hint="Your local time; events before it." />
        <div className="actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
        </div>
      </form>
    </>
  );
}

interface AuditLogState {
  /** The workspace and filters the events and the cursor belong to. */
  queryKey: string;
  events: AuditEvent[];
  nextCursor: string | null;
  error: unknown;
  isLoading: boolean;
}

interface AuditLog extends Omit<AuditLogState, 'queryKey'> {
  loadMore: () => void;
  reload: () => void;
}

/**
 * The log page by page, newest first: the first page on every change of filters (and on reload),
 * then the next one from `nextCursor` on demand. Only the latest request may write the state, so a
 * slow page of old filters never lands in the list of new ones.
 */
function useAuditLog(ws: string, filters: Filters): AuditLog {
  const { markSignedOut } = useSession();
  const queryKey = JSON.stringify([ws, filters]);
  const [state, setState] = useState<AuditLogState>(() => emptyLog(queryKey));
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);

  const load = useCallback(
    async (cursor?: string) => {
      const request = ++latest.current;
      // A first page of other filters (or another workspace) starts from nothing: neither the old rows
      // nor the old cursor survive it, even if it fails. A reload of the same filters keeps the rows meanwhile.
      setState((previous) => (previous.queryKey === queryKey ? { ...previous, error: null, isLoading: true } : emptyLog(queryKey)));
      try {
        const query = { ...filters, ...(cursor === undefined ? {} : { cursor }) };
        const page = await unwrap(api.GET('/api/workspaces/{ws}/audit-log', { params: { path: { ws }, query } }));
        if (request !== latest.current) return;
        setState((previous) => ({
          queryKey,
          events: cursor === undefined ? page.events : [...previous.events, ...page.events],
          nextCursor: page.nextCursor,
          error: null,
          isLoading: false,
        }));
      } catch (error) {
        if (request !== latest.current) return;
        if (isSignedOutError(error)) markSignedOut('expired');
        setState((previous) => ({ ...previous, error, isLoading: false }));
      }
    },
    [ws, filters, queryKey, markSignedOut],
  );

  useEffect(() => {
    void load();
  }, [load, generation]);

  // Until the first load of new filters has started, show an empty list rather than the old one, so
  // "Load more" cannot send the old cursor with the new filters in between.
  const { queryKey: _loadedKey, ...shown } = state.queryKey === queryKey ? state : emptyLog(queryKey);
  const { nextCursor, isLoading } = shown;
  const loadMore = useCallback(() => {
    if (nextCursor !== null && !isLoading) void load(nextCursor);
  }, [load, nextCursor, isLoading]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...shown, loadMore, reload };
}

function emptyLog(queryKey: string): AuditLogState {
  return { queryKey, events: [], nextCursor: null, error: null, isLoading: true };
}

function EventList({ log }: { log: AuditLog }) {
  const sentinel = useRef<HTMLDivElement>(null);
  const { loadMore, nextCursor, isLoading } = log;
  const hasFailed = log.error != null;

  // Infinite scroll: the next page loads when the end of the table comes into view. A new observer
  // after every page reports at once if the end is still visible (a short page on a tall screen).
  // Not after a failure: it would retry at once, for ever; the "Load more" button retries on demand.
  useEffect(() => {
    const element = sentinel.current;
    if (element === null || nextCursor === null || isLoading || hasFailed || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadMore();
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [loadMore, nextCursor, isLoading, hasFailed]);

  if (log.events.length === 0) {
    if (log.isLoading) return <Loading />;
    if (log.error) return <ErrorNotice error={log.error} />;
    return <Empty>No events match these filters.</Empty>;
  }
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Address</th>
            <th scope="col">Request id</th>
          </tr>
        </thead>
        <tbody>
          {log.events.map((event) => (
            <tr key={event.id}>
              <td>{new Date(event.occurredAt).toLocaleString()}</td>
              <td>
                {actorTypeLabel(event.actor.type)}
                {event.actor.id !== null && (
                  <>
                    {' '}
                    <code>{event.actor.id}</code>
                  </>
                )}
              </td>
              <td>
                <code>{event.action}</code>
              </td>
              <td>
                {event.target === null ? (
                  '—'
                ) : (
                  <>
                    {event.target.type}
                    {event.target.id !== null && (
                      <>
                        {' '}
                        <code>{event.target.id}</code>
                      </>
                    )}
                  </>
                )}
              </td>
              <td>{event.ip ?? '—'}</td>
              <td>{event.requestId === null ? '—' : <code>{event.requestId}</code>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div ref={sentinel} className="scroll-sentinel" aria-hidden="true" />
      <ErrorNotice error={log.error} />
      {log.isLoading && <Loading label="Loading events…" />}
      {nextCursor === null ? (
        <p className="hint">End of the log.</p>
      ) : (
        <div className="actions">
          {/* Not disabled while loading: a disabled button drops the keyboard focus; loadMore ignores repeats. */}
          <button type="button" onClick={loadMore}>
            Load more
          </button>
        </div>
      )}
    </>
  );
}
