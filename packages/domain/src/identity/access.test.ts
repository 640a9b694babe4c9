import { describe, expect, it } from 'vitest';
import { effectiveScopes, memberPermissions } from './access.ts';
import type { Membership, Organization } from './entities.ts';

const DAY_MS = 86_400_000;
const org = (roles: Array<{ roleId: string; permissions: string[] }> = []) =>
  ({ orgId: 'org_1', roles: roles.map((r) => ({ ...r, name: r.roleId })) }) as unknown as Organization;
const JOINED = '2025-01-01T00:00:00.000Z';
const member = (role: string, more: Partial<Membership> = {}) =>
  ({ orgId: 'org_1', userId: 'u1', role, isActive: true, createdAt: JOINED, ...more }) as Membership;
/** A key made during the member's current membership, unless said. */
const key = (scopes: string[], createdAt = '2025-06-01T00:00:00.000Z') => ({ scopes, createdAt });

describe('an API client’s scopes, clipped by its member’s current permissions', () => {
  const scopes = ['org:read', 'members:update', 'org:delete', 'gateway:invoke'];

  it('keep what the member’s role holds, in the key’s order, and drop the rest', () => {
    expect(effectiveScopes(key(scopes), org(), member('owner'))).toEqual(scopes);
    expect(effectiveScopes(key(scopes), org(), member('admin'))).toEqual(['org:read', 'members:update', 'gateway:invoke']);
    expect(effectiveScopes(key(scopes), org(), member('editor'))).toEqual(['org:read', 'gateway:invoke']);
    expect(effectiveScopes(key(scopes), org(), member('viewer'))).toEqual(['org:read']);
  });

  it('follow a custom role as the organization defines it now, and give nothing once the role is gone', () => {
    const custom = org([{ roleId: 'role_ops', permissions: ['org:read', 'org:delete'] }]);
    expect(effectiveScopes(key(scopes), custom, member('role_ops'))).toEqual(['org:read', 'org:delete']);
    expect(effectiveScopes(key(scopes), org(), member('role_ops'))).toEqual([]);
  });

  it('give nothing once the member is gone: no membership, inactive, or expired', () => {
    expect(effectiveScopes(key(scopes), org(), null)).toEqual([]);
    expect(effectiveScopes(key(scopes), org(), member('owner', { isActive: false }))).toEqual([]);
    const lapsed = new Date(Date.now() - DAY_MS).toISOString();
    expect(effectiveScopes(key(scopes), org(), member('owner', { expiresAt: lapsed }))).toEqual([]);
    const later = new Date(Date.now() + DAY_MS).toISOString();
    expect(effectiveScopes(key(scopes), org(), member('viewer', { expiresAt: later }))).toEqual(['org:read']);
  });

  it('give nothing for a key made before its member’s current membership began (they left and came back)', () => {
    expect(effectiveScopes(key(scopes, '2024-12-31T23:59:59.999Z'), org(), member('owner'))).toEqual([]);
    expect(effectiveScopes(key(scopes, JOINED), org(), member('owner'))).toEqual(scopes);
  });

  it('never grow past the stored scopes, whatever the member holds', () => {
    expect(effectiveScopes(key(['org:read']), org(), member('owner'))).toEqual(['org:read']);
    expect(effectiveScopes(key([]), org(), member('owner'))).toEqual([]);
  });
});

describe('what a member may hand to the keys they create', () => {
  it('is their role’s permission set, and nothing for a member who is gone', () => {
    expect(memberPermissions(org(), member('viewer'))).toEqual(new Set(['org:read', 'members:read', 'roles:read']));
    expect(memberPermissions(org(), member('admin')).has('members:transfer-ownership')).toBe(false);
    expect(memberPermissions(org(), member('owner')).has('members:transfer-ownership')).toBe(true);
    expect(memberPermissions(org(), member('owner', { isActive: false })).size).toBe(0);
    expect(memberPermissions(org(), undefined).size).toBe(0);
  });
});
