import type { Database } from '../db/database.js';
import type { SqlExecutor } from '../db/driver.js';
import type { RequestOrigin } from '../auth/account-services.js';
import { generateToken, hashToken, isTokenShaped } from '../crypto/tokens.js';

/** How long sessions live and how often their token changes. */
export interface SessionPolicy {
  idleTimeoutSeconds: number;
  absoluteLifetimeSeconds: number;
  /** A token is replaced by a new one at most this often (on a request after the interval). */
  rotationIntervalSeconds: number;
  /**
   * After a rotation the replaced token still works this long, for requests that were already in
   * flight with it; presented later, it means two parties hold the session: the session ends.
   */
  rotationGraceSeconds: number;
  /** "Last seen" is written at most this often, so most requests only read. */
  lastSeenWriteIntervalSeconds: number;
}

export function sessionPolicyFromConfig(config: { idleTimeoutMinutes: number; absoluteLifetimeHours: number }): SessionPolicy {
  return {
    idleTimeoutSeconds: config.idleTimeoutMinutes * 60,
    absoluteLifetimeSeconds: config.absoluteLifetimeHours * 3600,
    rotationIntervalSeconds: 3600,
    rotationGraceSeconds: 60,
    lastSeenWriteIntervalSeconds: 300,
  };
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  emailVerified: boolean;
  createdAt: Date;
}

/** How the user last proved who they are in this session: a password alone, or with a second factor. */
export type AuthLevel = 'single_factor' | 'multi_factor';

export interface Session {
  id: string;
  userId: string;
  createdAt: Date;
  /** When the user last proved who they are (sign-in or step-up). */
  authenticatedAt: Date;
  /** Seconds since `authenticatedAt`, by the database's clock (step-up compares it). */
  authenticationAgeSeconds: number;
  authLevel: AuthLevel;
  expiresAt: Date;
}

/** A request counted against the session's user by the validating statement (see `validateSessionToken`). */
export interface CountedRequest {
  /** Requests counted in the current window, this one included. */
  points: number;
  /** When the window ends, in milliseconds since the epoch (by the database's clock). */
  windowEndsAtMs: number;
}

export type SessionValidation =
  | { status: 'valid'; user: SessionUser; session: Session; rotatedToken?: string; countedRequest?: CountedRequest }
  /** Unknown, malformed, signed out, or ended by "sign out everywhere". */
  | { status: 'invalid' }
  | { status: 'expired' }
  /** A rotated-out token came back after the grace window: the session was ended. */
  | { status: 'reused'; userId: string; sessionId: string };

interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  authenticated_at: Date;
  expires_at: Date;
  auth_level: AuthLevel;
  authentication_age_seconds: number;
  is_current: boolean;
  is_expired: boolean;
  is_revoked: boolean;
  is_due_for_rotation: boolean;
  is_within_grace: boolean;
  is_last_seen_stale: boolean;
  email: string;
  name: string;
  email_verified_at: Date | null;
  user_created_at: Date;
  rate_points: number | null;
  rate_expire: number | null;
}

/** A client-chosen header as Postgres can store it: well-formed, no NUL, at most 512 characters. */
export function storableUserAgent(userAgent: string): string {
  return [...userAgent.toWellFormed().replaceAll('\0', '')].slice(0, 512).join('');
}

/**
 * Starts a session for a user who just proved who they are, inside the caller's transaction (whose
 * context is that user). Always a new id and a new token: a token a browser held before sign-in is
 * never promoted (no session fixation). `authLevel` says whether a second factor was part of it.
 *
 * @example
 * const { session, token } = await createSession(tx, { userId, policy, origin, authLevel: 'multi_factor' });
 */
export async function createSession(
  tx: SqlExecutor,
  options: { userId: string; policy: SessionPolicy; origin: RequestOrigin; authLevel?: AuthLevel },
): Promise<{ session: Session; token: string }> {
  const { ip, userAgent } = options.origin;
  const token = generateToken();
  const authLevel = options.authLevel ?? 'single_factor';
  const { rows } = await tx.query<{ id: string; created_at: Date; authenticated_at: Date; expires_at: Date }>(
    `INSERT INTO rampart.sessions (user_id, token_hash, expires_at, ip, user_agent, auth_level)
     VALUES ($1, $2, now() + make_interval(secs => $3), $4, $5, $6)
     RETURNING id, created_at, authenticated_at, expires_at`,
    [
      options.userId,
      hashToken(token),
      options.policy.absoluteLifetimeSeconds,
      ip.slice(0, 64),
      userAgent === undefined ? null : storableUserAgent(userAgent),
      authLevel,
    ],
  );
  const row = rows[0]!;
  return {
    token,
    session: {
      id: row.id,
      userId: options.userId,
      createdAt: row.created_at,
      authenticatedAt: row.authenticated_at,
      authenticationAgeSeconds: 0,
      authLevel,
      expiresAt: row.expires_at,
    },
  };
}

/**
 * Records that the session's user just proved who they are again (step-up, or confirming a new
 * second factor): the time is now, and the level is what that proof reached.
 */
export async function markSessionAuthenticated(tx: SqlExecutor, options: { sessionId: string; authLevel: AuthLevel }): Promise<void> {
  await tx.query('UPDATE rampart.sessions SET authenticated_at = now(), auth_level = $2 WHERE id = $1', [
    options.sessionId,
    options.authLevel,
  ]);
}

/**
 * After the user's last second factor is removed, no session of theirs may still claim one: each
 * drops to a password-only level (a workspace requiring MFA then refuses them until they enrol).
 */
export async function downgradeSessionsToSingleFactor(tx: SqlExecutor, userId: string): Promise<void> {
  await tx.query(`UPDATE rampart.sessions SET auth_level = 'single_factor' WHERE user_id = $1 AND auth_level <> 'single_factor'`, [userId]);
}

/**
 * Checks a presented session token, in one read on the common path. The database's clock decides
 * every time comparison, so instances with drifting clocks agree. Expired and revoked sessions are
 * deleted as they are found; a token due for rotation is replaced and the new one returned.
 *
 * @example
 * const result = await validateSessionToken(database, cookieValue, policy);
 * if (result.status !== 'valid') throw new AppError('UNAUTHENTICATED');
 */
export async function validateSessionToken(
  database: Database,
  token: string,
  policy: SessionPolicy,
  /**
   * Count this request against the session's user in the same statement (the per-route limit kept
   * in Postgres): the route's keyed share of the counter key, and the limit's window.
   */
  countRequest?: { routeKey: string; windowMs: number },
): Promise<SessionValidation> {
  if (!isTokenShaped(token)) return { status: 'invalid' };
  const tokenHash = hashToken(token);
  // The common case is this one read, in one round trip; a write follows only when the session has
  // ended, is due for rotation, or its "last seen" is stale.
  const [row] = await database.callContextFunction<SessionRow>('rampart.session_by_token_hash', [
    tokenHash,
    policy.idleTimeoutSeconds,
    policy.rotationIntervalSeconds,
    policy.rotationGraceSeconds,
    policy.lastSeenWriteIntervalSeconds,
    countRequest?.routeKey ?? null,
    countRequest?.windowMs ?? null,
  ]);
  if (row === undefined) return { status: 'invalid' };
  const write = dueWrite(row);
  if (write === undefined) return validSession(row);
  return database.withTenant({ lookupKey: tokenHash }, (tx) => settleSession(tx, row, tokenHash, write));
}

type DueWrite = 'end_revoked' | 'end_expired' | 'end_reused' | 'rotate' | 'touch';

/** What a validation must write, if anything: decided once, from the read's flags. */
function dueWrite(row: SessionRow): DueWrite | undefined {
  if (row.is_revoked) return 'end_revoked';
  if (row.is_expired) return 'end_expired';
  if (!row.is_current && !row.is_within_grace) return 'end_reused';
  if (row.is_current && row.is_due_for_rotation) return 'rotate';
  if (row.is_last_seen_stale) return 'touch';
  return undefined;
}

/** The write a validation calls for: ending the session, rotating its token, or noting it was seen. */
async function settleSession(tx: SqlExecutor, row: SessionRow, tokenHash: string, write: DueWrite): Promise<SessionValidation> {
  switch (write) {
    case 'end_revoked':
    case 'end_expired':
    case 'end_reused':
      await tx.query('DELETE FROM rampart.sessions WHERE id = $1', [row.id]);
      if (write === 'end_reused') return { status: 'reused', userId: row.user_id, sessionId: row.id };
      return { status: write === 'end_revoked' ? 'invalid' : 'expired' };
    case 'rotate': {
      const candidate = generateToken();
      // Guarded by the presented hash: of two requests rotating at once, one wins and the other
      // carries on with the (now previous, within grace) token it presented.
      const { rowCount } = await tx.query(
        `UPDATE rampart.sessions
            SET previous_token_hash = token_hash, token_hash = $2, rotated_at = now(), last_seen_at = now()
          WHERE id = $1 AND token_hash = $3`,
        [row.id, hashToken(candidate), tokenHash],
      );
      return validSession(row, rowCount === 1 ? candidate : undefined);
    }
    case 'touch':
      await tx.query('UPDATE rampart.sessions SET last_seen_at = now() WHERE id = $1', [row.id]);
      return validSession(row);
  }
}

function validSession(row: SessionRow, rotatedToken?: string): SessionValidation {
  return {
    status: 'valid',
    ...(rotatedToken === undefined ? {} : { rotatedToken }),
    ...(row.rate_points === null || row.rate_expire === null
      ? {}
      : { countedRequest: { points: row.rate_points, windowEndsAtMs: Number(row.rate_expire) } }),
    user: {
      id: row.user_id,
      email: row.email,
      name: row.name,
      emailVerified: row.email_verified_at !== null,
      createdAt: row.user_created_at,
    },
    session: {
      id: row.id,
      userId: row.user_id,
      createdAt: row.created_at,
      authenticatedAt: row.authenticated_at,
      authenticationAgeSeconds: row.authentication_age_seconds,
      authLevel: row.auth_level,
      expiresAt: row.expires_at,
    },
  };
}

/** The account a session is for, read as that user (the transaction's context). */
export async function loadSessionUser(tx: SqlExecutor, userId: string): Promise<SessionUser> {
  const { rows } = await tx.query<{ id: string; email: string; name: string; email_verified_at: Date | null; created_at: Date }>(
    'SELECT id, email, name, email_verified_at, created_at FROM rampart.users WHERE id = $1',
    [userId],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('the user of this transaction does not exist');
  return { id: row.id, email: row.email, name: row.name, emailVerified: row.email_verified_at !== null, createdAt: row.created_at };
}

export interface SessionSummary {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** The user's live sessions, newest first (the transaction's context is the user). */
export async function listSessions(tx: SqlExecutor, options: { userId: string; policy: SessionPolicy }): Promise<SessionSummary[]> {
  const { rows } = await tx.query<{
    id: string;
    created_at: Date;
    last_seen_at: Date;
    expires_at: Date;
    ip: string | null;
    user_agent: string | null;
  }>(
    `SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent
       FROM rampart.sessions s JOIN rampart.users u ON u.id = s.user_id
      WHERE s.user_id = $1 AND s.expires_at > now() AND s.created_at >= u.tokens_valid_after
        AND now() - s.last_seen_at <= make_interval(secs => $2)
      ORDER BY s.created_at DESC, s.id`,
    [options.userId, options.policy.idleTimeoutSeconds],
  );
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
  }));
}

/** Ends one of the user's sessions. Returns false when the user has no such session. */
export async function deleteSession(tx: SqlExecutor, options: { userId: string; sessionId: string }): Promise<boolean> {
  const { rowCount } = await tx.query('DELETE FROM rampart.sessions WHERE id = $1 AND user_id = $2', [
    options.sessionId,
    options.userId,
  ]);
  return rowCount === 1;
}

/** Ends every session of the user but one (the caller's own). Returns how many ended. */
export async function deleteOtherSessions(tx: SqlExecutor, options: { userId: string; keepSessionId: string }): Promise<number> {
  const { rowCount } = await tx.query('DELETE FROM rampart.sessions WHERE user_id = $1 AND id <> $2', [
    options.userId,
    options.keepSessionId,
  ]);
  return rowCount;
}

/**
 * Ends every session of the user at once, on every instance ("sign out everywhere"): sessions
 * created before `tokens_valid_after` are refused at their next request, and deleted here already.
 * Sign-ins waiting for their second factor end too: their password step is no longer worth anything.
 */
export async function revokeAllSessions(tx: SqlExecutor, userId: string): Promise<void> {
  await tx.query('UPDATE rampart.users SET tokens_valid_after = now(), updated_at = now() WHERE id = $1', [userId]);
  await tx.query('DELETE FROM rampart.sessions WHERE user_id = $1', [userId]);
  await tx.query('DELETE FROM rampart.mfa_challenges WHERE user_id = $1', [userId]);
}
