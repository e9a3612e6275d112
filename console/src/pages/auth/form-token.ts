/**
 * The token a public form (sign-up, password reset) is submitted with. It is fetched when the form is
 * shown, so the server can tell how long the form was open and drop submissions sent faster than a
 * person types. The token is optional for these forms: if it could not be fetched the form still works,
 * only without the fill-time check.
 */
import { useEffect } from 'react';
import { api, unwrap } from '../../api/client';
import { ApiError } from '../../api/problem';
import type { paths } from '../../api/schema';
import { useResource } from '../../hooks';

export type PublicForm = paths['/api/forms/{form}/token']['get']['parameters']['path']['form'];

/**
 * The token for `form`: undefined while loading or when it could not be fetched. `lastError` is the
 * error of the form's last submission: when the server refused the token (FORM_TOKEN_INVALID, the
 * form stayed open over an hour), a fresh one is fetched so that submitting again works.
 */
export function useFormToken(form: PublicForm, lastError: unknown): string | undefined {
  const { data, reload } = useResource(() => unwrap(api.GET('/api/forms/{form}/token', { params: { path: { form } } })), form);
  const isRefused = lastError instanceof ApiError && lastError.code === 'FORM_TOKEN_INVALID';
  useEffect(() => {
    if (isRefused) reload();
  }, [isRefused, reload]);
  return data?.token;
}

/**
 * The protection fields of a submission: `formToken` when there is one, and the honeypot `website`
 * only when something filled it in (an empty one is left out, as a person's submission would be).
 */
export function protectionFields(token: string | undefined, website: string): { formToken?: string; website?: string } {
  return { ...(token !== undefined ? { formToken: token } : {}), ...(website !== '' ? { website } : {}) };
}
