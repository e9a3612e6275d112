/**
 * The development outbox: with no SMTP relay configured, the server keeps the emails it would have
 * sent, and this page shows them, so verification, reset and invitation links can be followed locally.
 */
import type { ReactNode } from 'react';
import { api, unwrap } from '../../api/client';
import { ApiError } from '../../api/problem';
import type { paths } from '../../api/schema';
import { ErrorNotice } from '../../components/error-notice';
import { Empty, Loading, Page } from '../../components/page';
import { useResource } from '../../hooks';

type OutboxMessage = paths['/api/dev/outbox']['get']['responses'][200]['content']['application/json']['messages'][number];

export function OutboxPage() {
  const outbox = useResource(() => unwrap(api.GET('/api/dev/outbox')), 'outbox');
  const messages = [...(outbox.data?.messages ?? [])].sort((a, b) => Date.parse(b.sentAt) - Date.parse(a.sentAt));

  return (
    <Page
      title="Outbox (development)"
      actions={
        <button type="button" onClick={outbox.reload} disabled={outbox.isLoading}>
          Refresh
        </button>
      }
    >
      {outbox.error instanceof ApiError && outbox.error.code === 'NOT_FOUND' ? (
        <p>The outbox exists only in development, when no SMTP relay is configured.</p>
      ) : (
        <ErrorNotice error={outbox.error} />
      )}
      {outbox.isLoading && outbox.data === undefined && <Loading />}
      {outbox.data !== undefined && messages.length === 0 && <Empty>No emails yet.</Empty>}
      {messages.map((message) => (
        <Email key={message.id} message={message} />
      ))}
    </Page>
  );
}

function Email({ message }: { message: OutboxMessage }) {
  return (
    <article className="email" aria-label={message.subject}>
      <h2>{message.subject}</h2>
      <p>
        To: {message.to} · <time dateTime={message.sentAt}>{new Date(message.sentAt).toLocaleString()}</time>
      </p>
      <pre>{withLinks(message.text)}</pre>
    </article>
  );
}

/**
 * An http(s) URL in the text of an email; it ends before whitespace, quotes and angle brackets, and
 * does not take the punctuation that closes a sentence ("…at https://example.test/x.").
 */
const URL_PATTERN = /(https?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]}])/;

/**
 * The text with every URL in it as a link. Built as React elements, never as HTML: an email's text
 * may contain anything, and React escapes it. The capturing group makes `split` keep the URLs at the
 * odd indexes.
 */
function withLinks(text: string): ReactNode[] {
  return text.split(URL_PATTERN).map((part, index) =>
    index % 2 === 1 ? (
      <a key={index} href={part}>
        {part}
      </a>
    ) : (
      part
    ),
  );
}
