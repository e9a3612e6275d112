import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { Session } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { Empty, Loading, Notice, Page } from '../../components/page';
import { useAction, useResource } from '../../hooks';

function deviceOf(session: Session): string {
  return session.userAgent ?? 'Unknown device';
}

export function SessionsPage() {
  const sessions = useResource(async () => (await unwrap(api.GET('/api/me/sessions'))).sessions, 'sessions');
  const action = useAction();
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = async (session: Session) => {
    setNotice(null);
    const result = await action.run(() => unwrap(api.DELETE('/api/me/sessions/{id}', { params: { path: { id: session.id } } })));
    if (result !== undefined) setNotice(`The session from ${deviceOf(session)} was signed out.`);
    sessions.reload();
  };

  const signOutOthers = async () => {
    setNotice(null);
    const result = await action.run(() => unwrap(api.POST('/api/me/sessions/revoke-others')));
    if (result !== undefined) setNotice(result.revoked === 1 ? 'Signed out 1 other session.' : `Signed out ${result.revoked} other sessions.`);
    sessions.reload();
  };

  const list = sessions.data;
  const hasOthers = list?.some((session) => !session.current) ?? false;

  return (
    <Page title="Sessions">
      <p>Every browser signed in to your account. Sign out any you do not recognise, then change your password.</p>
      <ErrorNotice error={action.error} />
      {notice !== null && (
        <Notice>
          <p>{notice}</p>
        </Notice>
      )}
      {list === undefined && sessions.isLoading && <Loading />}
      <ErrorNotice error={sessions.error} />
      {list !== undefined && list.length === 0 && <Empty>No active sessions.</Empty>}
      {list !== undefined && list.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Address</th>
              <th scope="col">Signed in</th>
              <th scope="col">Last active</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.map((session) => {
              const created = new Date(session.createdAt).toLocaleString();
              return (
                <tr key={session.id} data-current={session.current ? 'true' : undefined}>
                  <td>
                    {deviceOf(session)} {session.current && <span className="badge ok">This session</span>}
                  </td>
                  <td>{session.ip ?? 'Unknown'}</td>
                  <td>
                    <time dateTime={session.createdAt}>{created}</time>
                  </td>
                  <td>
                    <time dateTime={session.lastSeenAt}>{new Date(session.lastSeenAt).toLocaleString()}</time>
                  </td>
                  <td>
                    {!session.current && (
                      <button
                        type="button"
                        aria-label={`Sign out this session (${deviceOf(session)}, signed in ${created})`}
                        onClick={() => void signOut(session)}
                        disabled={action.isPending}
                      >
                        Sign out this session
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {list !== undefined && list.length > 0 && !hasOthers && <Empty>You are not signed in anywhere else.</Empty>}
      {hasOthers && (
        <div className="actions">
          <button type="button" className="danger" onClick={() => void signOutOthers()} disabled={action.isPending}>
            Sign out all other sessions
          </button>
        </div>
      )}
    </Page>
  );
}
