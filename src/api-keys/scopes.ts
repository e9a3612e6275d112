import { hasRoleAtLeast, minimumRoleFor, ROLES, type Permission, type Role } from '../workspaces/index.js';

/**
 * The scopes an API key can hold, each `resource:read` or `resource:write`, and the actions of the
 * permission table each one allows. The one registry: a capability that opens its routes to keys
 * adds its scopes here; a route whose action no scope lists is closed to every key (403
 * INSUFFICIENT_SCOPE) — key management, membership changes and every step-up action among them.
 */
export const API_KEY_SCOPES = {
  'workspace:read': { allows: ['workspace:read'], description: 'Read the workspace (name, settings)' },
  'members:read': { allows: ['members:read'], description: 'List the members and their roles' },
  'audit:read': { allows: ['audit:read'], description: 'Read the audit log and verify its chain' },
} as const satisfies Record<string, { allows: readonly Permission[]; description: string }>;

export type ApiKeyScope = keyof typeof API_KEY_SCOPES;
export const API_KEY_SCOPE_NAMES = Object.keys(API_KEY_SCOPES) as [ApiKeyScope, ...ApiKeyScope[]];

export function isApiKeyScope(value: unknown): value is ApiKeyScope {
  return typeof value === 'string' && Object.hasOwn(API_KEY_SCOPES, value);
}

/** Whether one of `scopes` allows the action. */
export function scopesAllow(scopes: readonly string[], action: Permission): boolean {
  return scopes.some((scope) => isApiKeyScope(scope) && (API_KEY_SCOPES[scope].allows as readonly Permission[]).includes(action));
}

/** Whether a member of `role` may hold `scope`: every action it allows must be open to that role. */
export function roleMayHoldScope(role: Role, scope: ApiKeyScope): boolean {
  return API_KEY_SCOPES[scope].allows.every((action) => hasRoleAtLeast(role, minimumRoleFor(action)));
}

/** The lowest role that may hold `scope` (and whose keys keep it). */
function minimumRoleToHold(scope: ApiKeyScope): Role {
  return [...ROLES].reverse().find((role) => roleMayHoldScope(role, scope)) ?? 'owner';
}

/** The scope registry as the Markdown table `docs/security.md` carries. */
export function scopeTableMarkdown(): string {
  const rows = API_KEY_SCOPE_NAMES.map((scope) => {
    const actions = API_KEY_SCOPES[scope].allows.map((action) => `\`${action}\``).join(', ');
    return `| \`${scope}\` | ${actions} | ${minimumRoleToHold(scope)} | ${API_KEY_SCOPES[scope].description} |`;
  });
  return ['| scope | actions it allows | lowest role whose keys keep it | what it covers |', '|---|---|---|---|', ...rows].join('\n');
}
