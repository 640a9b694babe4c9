import { ForbiddenError, NotFoundError } from '../shared/errors.ts';
import { transactGet } from '../shared/transactions.ts';
import { db, type Membership, type Organization } from './entities.ts';
import { BUILT_IN_ROLE_PERMISSIONS, PERMISSIONS, isBuiltInRole, type Permission } from './permissions.ts';

/** Who is calling, as the authorizers established it. */
export type Caller =
  | { kind: 'user'; userId: string; email?: string; groups: string[]; isPlatformAdmin: boolean }
  | { kind: 'apiClient'; clientId: string; orgId: string; scopes: string[] }
  | { kind: 'anonymous' };

export type UserCaller = Extract<Caller, { kind: 'user' }>;

/**
 * Proof that a caller may act in one organization. Services that touch tenant data take
 * an `OrgAccess`, and scope every key by `access.orgId`: a forgotten check cannot reach
 * another tenant's rows, because the only way to get an `OrgAccess` is `authorizeOrg`.
 */
export interface OrgAccess {
  readonly orgId: string;
  readonly org: Organization;
  readonly caller: Exclude<Caller, { kind: 'anonymous' }>;
  readonly membership?: Membership;
  readonly role?: string;
  readonly permissions: ReadonlySet<string>;
  readonly actorId: string;
  readonly actorType: 'user' | 'apiClient';
}

const notFound = () => new NotFoundError('Organization not found');

export function permissionsOfRole(org: Organization, role: string): readonly string[] {
  if (isBuiltInRole(role)) return BUILT_IN_ROLE_PERMISSIONS[role];
  return [...(org.roles?.find((r) => r.roleId === role)?.permissions ?? [])];
}

export function isMembershipLive(m: Membership | null | undefined, now = new Date()): m is Membership {
  return !!m && m.isActive !== false && (!m.expiresAt || new Date(m.expiresAt) > now);
}

/**
 * Authorizes `caller` for `permission` in `orgId` with one consistent read of the
 * membership and the organization. A caller who is not a member gets 404, as if the
 * organization did not exist; a member without the permission gets 403.
 */
export async function authorizeOrg(caller: Caller, orgId: string, permission?: Permission): Promise<OrgAccess> {
  if (caller.kind === 'anonymous') throw notFound();

  if (caller.kind === 'apiClient') {
    if (caller.orgId !== orgId) throw notFound();
    const { data: org } = await db.organization.get({ orgId }).go({ consistent: true });
    if (!org || org.deletedAt) throw notFound();
    if (permission && !caller.scopes.includes(permission))
      throw new ForbiddenError(`This API client lacks the scope ${permission}`);
    return {
      orgId,
      org,
      caller,
      permissions: new Set(caller.scopes),
      actorId: caller.clientId,
      actorType: 'apiClient',
    };
  }

  const [membership, org] = await transactGet<[Membership, Organization]>([
    { op: db.membership.get({ orgId, userId: caller.userId }), entity: db.membership },
    { op: db.organization.get({ orgId }), entity: db.organization },
  ]);
  if (!org || org.deletedAt) throw notFound();

  if (!isMembershipLive(membership)) {
    if (!caller.isPlatformAdmin) throw notFound();
    return { orgId, org, caller, permissions: new Set(PERMISSIONS), actorId: caller.userId, actorType: 'user' };
  }
  const permissions = new Set(caller.isPlatformAdmin ? PERMISSIONS : permissionsOfRole(org, membership.role));
  if (permission && !permissions.has(permission))
    throw new ForbiddenError(`Your role in this organization does not grant ${permission}`);
  return {
    orgId,
    org,
    caller,
    membership,
    role: membership.role,
    permissions,
    actorId: caller.userId,
    actorType: 'user',
  };
}
