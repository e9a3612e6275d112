/** Names for the shapes the screens pass around, read off the generated OpenAPI types. */
import type { paths } from './schema';

type JsonOf<Operation> = Operation extends { responses: { 200: { content: { 'application/json': infer Body } } } }
  ? Body
  : Operation extends { responses: { 201: { content: { 'application/json': infer Body } } } }
    ? Body
    : never;

export type Me = JsonOf<paths['/api/me']['get']>;
export type Workspace = JsonOf<paths['/api/workspaces']['get']>['workspaces'][number];
export type Role = NonNullable<Workspace['role']>;
export type Member = JsonOf<paths['/api/workspaces/{ws}/members']['get']>['members'][number];
export type Invitation = JsonOf<paths['/api/workspaces/{ws}/invitations']['get']>['invitations'][number];
export type ApiKey = JsonOf<paths['/api/workspaces/{ws}/api-keys']['get']>['apiKeys'][number];
export type ApiKeyScope = NonNullable<paths['/api/workspaces/{ws}/api-keys']['post']['requestBody']>['content']['application/json']['scopes'][number];
export type AuditEvent = JsonOf<paths['/api/workspaces/{ws}/audit-log']['get']>['events'][number];
export type AuditQuery = NonNullable<paths['/api/workspaces/{ws}/audit-log']['get']['parameters']['query']>;
export type Session = JsonOf<paths['/api/me/sessions']['get']>['sessions'][number];
export type SecurityLogEntry = JsonOf<paths['/api/me/security-log']['get']>['events'][number];
export type MfaStatus = JsonOf<paths['/api/me/mfa']['get']>;
export type Passkey = JsonOf<paths['/api/me/passkeys']['get']>['passkeys'][number];
