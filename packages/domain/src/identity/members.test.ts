import { describe, expect, it } from 'vitest';
import { permissionsOfRole, type OrgAccess } from './access.ts';
import type { Membership, Organization } from './entities.ts';
import { assertMayManage } from './members.ts';
import { PERMISSIONS } from './permissions.ts';

const DAY_MS = 86_400_000;
const org = { orgId: 'org_1', roles: [{ roleId: 'role_all', name: 'All', permissions: ['members:transfer-ownership'] }] };

/**
 * The access of a member acting with `role`, as `authorizeOrg` gives it: through an API client of
 * theirs (`asKey`, its scopes), or as a platform admin (every permission).
 */
function accessOf(role: string, options: { platformAdmin?: boolean; asKey?: string[] } = {}): OrgAccess {
  const organization = org as unknown as Organization;
  const permissions = new Set(options.asKey ?? (options.platformAdmin ? PERMISSIONS : permissionsOfRole(organization, role)));
  const caller = options.asKey
    ? { kind: 'apiClient' as const, clientId: 'ak_1', orgId: 'org_1', scopes: options.asKey, memberId: 'u1', createdAt: '' }
    : { kind: 'user' as const, userId: 'u1', groups: [], isPlatformAdmin: !!options.platformAdmin };
  return { orgId: 'org_1', org: organization, caller, role, memberRole: role, permissions, actorId: 'u1', actorType: 'user' };
}
const target = (role: string, more: Partial<Membership> = {}) =>
  ({ orgId: 'org_1', userId: 'u2', role, isActive: true, ...more }) as Membership;

describe('who may change a member', () => {
  it('only an owner changes an owner or makes one', () => {
    expect(() => assertMayManage(accessOf('admin'), target('owner'), { role: 'admin' })).toThrow(/Only an owner/);
    expect(() => assertMayManage(accessOf('admin'), target('editor'), { role: 'owner' })).toThrow(/Only an owner/);
    expect(() => assertMayManage(accessOf('owner'), target('owner'), { role: 'admin' })).not.toThrow();
    expect(() => assertMayManage(accessOf('owner'), target('viewer'), { role: 'owner' })).not.toThrow();
  });

  it('a platform admin acts as an owner', () => {
    expect(() => assertMayManage(accessOf('viewer', { platformAdmin: true }), target('owner'), { role: 'admin' })).not.toThrow();
  });

  it('an owner’s key acts as an owner only with the transfer-ownership scope', () => {
    const everything = [...permissionsOfRole(org as unknown as Organization, 'owner')];
    expect(() => assertMayManage(accessOf('owner', { asKey: everything }), target('owner'), { role: 'admin' })).not.toThrow();
    const without = everything.filter((p) => p !== 'members:transfer-ownership');
    expect(() => assertMayManage(accessOf('owner', { asKey: without }), target('owner'), { role: 'admin' })).toThrow(
      /Only an owner/,
    );
  });

  it('a custom role ranks as an editor, whatever it holds: it touches no owner and no admin', () => {
    expect(() => assertMayManage(accessOf('role_all'), target('owner'), {})).toThrow(/Only an owner/);
    expect(() => assertMayManage(accessOf('role_all'), target('admin'), {})).toThrow(/outranks yours/);
  });

  it('nobody changes a member who outranks them; an equal rank may', () => {
    expect(() => assertMayManage(accessOf('editor'), target('admin'), {})).toThrow(/outranks yours/);
    expect(() => assertMayManage(accessOf('viewer'), target('editor'), {})).toThrow(/outranks yours/);
    expect(() => assertMayManage(accessOf('admin'), target('admin'), {})).not.toThrow();
    expect(() => assertMayManage(accessOf('admin'), target('viewer'), { role: 'editor' })).not.toThrow();
  });

  it('lifting or extending an expiry takes an owner or a higher rank; bringing it forward does not', () => {
    const soon = new Date(Date.now() + DAY_MS).toISOString();
    const later = new Date(Date.now() + 10 * DAY_MS).toISOString();
    const temporaryAdmin = target('admin', { expiresAt: soon });
    expect(() => assertMayManage(accessOf('admin'), temporaryAdmin, { expiresAt: null })).toThrow(/lift or extend/);
    expect(() => assertMayManage(accessOf('admin'), temporaryAdmin, { expiresAt: later })).toThrow(/lift or extend/);
    expect(() => assertMayManage(accessOf('admin'), target('admin', { expiresAt: later }), { expiresAt: soon })).not.toThrow();
    expect(() => assertMayManage(accessOf('owner'), temporaryAdmin, { expiresAt: null })).not.toThrow();
    expect(() => assertMayManage(accessOf('admin'), target('editor', { expiresAt: soon }), { expiresAt: null })).not.toThrow();
  });

  it('nobody gives a role with permissions they do not hold', () => {
    expect(() => assertMayManage(accessOf('admin'), target('viewer'), { role: 'role_all' })).toThrow(/do not hold/);
  });
});
