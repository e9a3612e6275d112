import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountServices } from '../auth/account-services.js';
import { isRecentlyAuthenticated } from '../mfa/step-up.js';
import { AppError } from '../server/errors.js';

/**
 * Every route that needs a recent authentication, and why: the one list, mirrored into
 * docs/security.md by a test. A route named here gets the step-up check after its session check;
 * naming a route that does not exist stops the app from starting, so the list cannot go stale.
 */
export const STEP_UP_ROUTES = [
  { method: 'POST', url: '/api/me/password', action: 'Change the password' },
  { method: 'POST', url: '/api/me/mfa/totp', action: 'Start enrolling an authenticator app' },
  { method: 'POST', url: '/api/me/mfa/totp/confirm', action: 'Activate an authenticator app' },
  { method: 'DELETE', url: '/api/me/mfa/totp', action: 'Remove the authenticator app' },
  { method: 'POST', url: '/api/me/mfa/recovery-codes', action: 'Create new recovery codes' },
  { method: 'POST', url: '/api/me/passkeys/registration-options', action: 'Start registering a passkey' },
  { method: 'POST', url: '/api/me/passkeys', action: 'Register a passkey' },
  { method: 'PATCH', url: '/api/me/passkeys/:id', action: 'Rename a passkey' },
  { method: 'DELETE', url: '/api/me/passkeys/:id', action: 'Remove a passkey' },
  { method: 'POST', url: '/api/workspaces/:ws/transfer-ownership', action: 'Transfer ownership of a workspace' },
  { method: 'DELETE', url: '/api/workspaces/:ws', action: 'Delete a workspace' },
  { method: 'PUT', url: '/api/workspaces/:ws/mfa-policy', action: "Turn the workspace's MFA requirement on or off" },
  { method: 'POST', url: '/api/workspaces/:ws/api-keys', action: 'Create an API key' },
] as const satisfies readonly { method: string; url: string; action: string }[];

const routeKey = (method: string, url: string) => `${method} ${url}`;

/**
 * The pre-handler that refuses a sensitive action without a recent authentication (403
 * `STEP_UP_REQUIRED`; the client calls `POST /api/auth/step-up` and retries). It runs after the
 * session guard, which has set `request.auth`.
 */
export type StepUpGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function createStepUpGuard(services: AccountServices): StepUpGuard {
  return async function requireRecentAuthentication(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    // A key cannot re-authenticate: sensitive actions are for a person (no scope allows one today).
    if (request.apiKey !== null) throw new AppError('INSUFFICIENT_SCOPE', { publicMessage: 'This action needs a signed-in person, not an API key.' });
    const auth = request.auth;
    if (auth === null) throw new TypeError('the step-up check runs after the session guard');
    if (!(await isRecentlyAuthenticated(services, auth))) {
      throw new AppError('STEP_UP_REQUIRED', {
        publicMessage: `Confirm it is you (POST /api/auth/step-up) within ${services.mfa.stepUpWindowSeconds / 60} minutes before this action.`,
      });
    }
  };
}

/**
 * Registers an `onRoute` hook that appends the step-up check to every route of `STEP_UP_ROUTES`
 * (after the route's own pre-handlers, so after the session guard), and a ready check that every
 * listed route was registered.
 */
export function installStepUp(app: FastifyInstance, guard: StepUpGuard): void {
  const listed = new Set<string>(STEP_UP_ROUTES.map((route) => routeKey(route.method, route.url)));
  const guarded = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const key = routeKey(method, route.url);
      if (!listed.has(key)) continue;
      const own = route.preHandler === undefined ? [] : [route.preHandler].flat();
      route.preHandler = [...own, guard];
      guarded.add(key);
    }
  });
  app.addHook('onReady', async () => {
    const missing = [...listed].filter((key) => !guarded.has(key));
    if (missing.length > 0) throw new Error(`STEP_UP_ROUTES names routes that do not exist: ${missing.join(', ')}`);
  });
}

/** The step-up table as docs/security.md prints it (a test keeps the two equal). */
export function stepUpTableMarkdown(): string {
  const rows = STEP_UP_ROUTES.map((route) => `| \`${route.method} ${route.url}\` | ${route.action} |`);
  return ['| route | sensitive action |', '|---|---|', ...rows].join('\n');
}
