import { ApiError, describeProblem, fieldProblems } from '../api/problem';

/**
 * An error as a person reads it: the sentence for its code, the fields that were refused, and the
 * request id to quote to support. Announced to screen readers as it appears.
 */
export function ErrorNotice({ error, wording = {} }: { error: unknown; /** Screen-specific sentences for some codes. */ wording?: Partial<Record<string, string>> }) {
  if (error === null || error === undefined) return null;
  if (!(error instanceof ApiError)) {
    const message = error instanceof Error ? error.message : 'Something went wrong.';
    return (
      <div role="alert" className="notice error">
        <p>{message}</p>
      </div>
    );
  }
  const fields = fieldProblems(error.problem);
  return (
    <div role="alert" className="notice error" data-code={error.code}>
      <p>{wording[error.code] ?? describeProblem(error.problem)}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
      {error.problem.requestId !== undefined && (
        <p className="request-id">
          Request id: <code>{error.problem.requestId}</code>
        </p>
      )}
    </div>
  );
}
