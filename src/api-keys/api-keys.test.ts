import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { lookUpApiKey } from './api-keys.js';
import { generateApiKey } from './key-format.js';
import { ApiKeyHasher, pepperFrom } from './key-hasher.js';

/** A database whose authenticating statement returns `row` whatever it is asked. */
function databaseAnswering(row: Record<string, unknown>): Database {
  return { callContextFunction: () => Promise.resolve([row]) } as unknown as Database;
}

function lookupRow(keyHash: string): Record<string, unknown> {
  const workspaceId = randomUUID();
  return {
    id: randomUUID(),
    workspace_id: workspaceId,
    key_hash: keyHash,
    name: 'Reporting',
    scopes: ['workspace:read'],
    rate_limit_per_minute: 60,
    created_by: randomUUID(),
    creator_role: 'admin',
    is_revoked: false,
    is_expired: false,
    requests_used: 1,
    window_reset_seconds: 60,
    workspace_is_active: true,
    workspace_name: 'Acme',
    workspace_mfa_required: false,
    workspace_created_at: new Date(),
  };
}

describe('lookUpApiKey', () => {
  const hasher = new ApiKeyHasher(pepperFrom(randomBytes(32)));

  it("accepts the row the statement returns only when its stored hash is the presented key's HMAC (attack: a lookup that returns another key's row)", async () => {
    const { key } = generateApiKey('test');
    const other = generateApiKey('test').key;
    expect(await lookUpApiKey(databaseAnswering(lookupRow(hasher.hash(key).hash)), { key, hasher, countUsage: true })).toMatchObject({ name: 'Reporting' });
    expect(await lookUpApiKey(databaseAnswering(lookupRow(hasher.hash(other).hash)), { key, hasher, countUsage: true })).toBeUndefined();
  });
});
