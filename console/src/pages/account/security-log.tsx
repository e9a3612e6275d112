import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { SecurityLogEntry } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { Empty, Loading, Page } from '../../components/page';
import { useAction, useResource } from '../../hooks';

const PAGE_SIZE = 50;

/** Words for the account events the server records; an action missing here shows as its code. */
const ACTION_LABELS: Record<string, string> = {
  'account.signed_up': 'Account created',
  'account.sign_up_repeated': 'Someone tried to sign up again with this email',
  'account.email_verified': 'Email address verified',
  'account.signed_in': 'Signed in',
  'account.sign_in_failed': 'Failed sign-in',
  'account.signed_out': 'Signed out',
  'account.locked': 'Sign-in locked after failed attempts',
  'account.second_factor_requested': 'Second factor asked for',
  'account.second_factor_failed': 'Wrong second factor',
  'account.stepped_up': 'Identity confirmed',
  'account.password_changed': 'Password changed',
  'account.password_reset_requested': 'Password reset asked for',
  'account.password_reset': 'Password reset',
  'account.session_revoked': 'Session signed out',
  'account.other_sessions_revoked': 'Other sessions signed out',
  'account.session_token_reused': 'Old session token reused',
  'account.totp_enabled': 'Authenticator app set up',
  'account.totp_disabled': 'Authenticator app removed',
  'account.totp_code_replayed': 'Authenticator code used twice',
  'account.recovery_codes_generated': 'New recovery codes created',
  'account.recovery_code_used': 'Recovery code used',
  'account.passkey_added': 'Passkey added',
  'account.passkey_renamed': 'Passkey renamed',
  'account.passkey_removed': 'Passkey removed',
  'account.passkey_clone_suspected': 'Possible copy of a passkey used',
};

interface LogPage {
  events: SecurityLogEntry[];
  nextBefore: number | null;
}

function loadPage(before?: number): Promise<LogPage> {
  const query = before === undefined ? { limit: PAGE_SIZE } : { limit: PAGE_SIZE, before };
  return unwrap(api.GET('/api/me/security-log', { params: { query } }));
}

export function SecurityLogPage() {
  const first = useResource(() => loadPage(), 'security-log');
  // Older pages, appended below the first as "Load more" fetches them (the log pages by sequence number).
  const [older, setOlder] = useState<LogPage | null>(null);
  const more = useAction();

  const events = [...(first.data?.events ?? []), ...(older?.events ?? [])];
  const nextBefore = older !== null ? older.nextBefore : (first.data?.nextBefore ?? null);

  const loadMore = async (before: number) => {
    const page = await more.run(() => loadPage(before));
    if (page !== undefined) setOlder((previous) => ({ events: [...(previous?.events ?? []), ...page.events], nextBefore: page.nextBefore }));
  };

  return (
    <Page title="Security log">
      <p>Sign-ins, password changes and other events on your account, newest first.</p>
      {first.data === undefined && first.isLoading && <Loading />}
      <ErrorNotice error={first.error} />
      {first.data !== undefined && events.length === 0 && <Empty>Nothing has been recorded on your account yet.</Empty>}
      {events.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Address</th>
              <th scope="col">Device</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>
                  <time dateTime={event.occurredAt}>{new Date(event.occurredAt).toLocaleString()}</time>
                </td>
                <td>
                  {ACTION_LABELS[event.action] ?? event.action} <code className="hint">{event.action}</code>
                </td>
                <td>{event.ip ?? 'Unknown'}</td>
                <td>{event.userAgent ?? 'Unknown'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorNotice error={more.error} />
      {nextBefore !== null && (
        <div className="actions">
          <button type="button" onClick={() => void loadMore(nextBefore)} disabled={more.isPending}>
            Load more
          </button>
        </div>
      )}
    </Page>
  );
}
