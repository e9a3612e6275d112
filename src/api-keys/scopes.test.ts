import { describe, expect, it } from 'vitest';
import { API_KEY_SCOPE_NAMES, roleMayHoldScope, scopesAllow } from './scopes.js';

describe('API key scopes', () => {
  it('keeps every scope within the roles that may hold it', () => {
    expect(roleMayHoldScope('viewer', 'workspace:read')).toBe(true);
    expect(roleMayHoldScope('viewer', 'members:read')).toBe(true);
    expect(roleMayHoldScope('manager', 'audit:read')).toBe(false);
    expect(roleMayHoldScope('admin', 'audit:read')).toBe(true);
    for (const scope of API_KEY_SCOPE_NAMES) expect(roleMayHoldScope('owner', scope)).toBe(true);
  });

  it('allows only the actions a scope lists, and nothing for a name outside the registry', () => {
    expect(scopesAllow(['workspace:read'], 'workspace:read')).toBe(true);
    expect(scopesAllow(['workspace:read'], 'members:read')).toBe(false);
    expect(scopesAllow(['members:read', 'audit:read'], 'audit:read')).toBe(true);
    expect(scopesAllow(['workspace:write', 'toString', '__proto__'], 'workspace:rename')).toBe(false);
    expect(scopesAllow(['audit:read'], 'audit:export')).toBe(false);
  });
});
