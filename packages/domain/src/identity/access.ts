import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../shared/errors.ts';
import { conditionCheck, transactGet, type WriteItem } from '../shared/transactions.ts';
import { db, type Membership, type Organization, type User } from './entities.ts';
import { BUILT_IN_ROLE_PERMISSIONS, PERMISSIONS, isBuiltInRole, type Permission } from './permissions.ts';

/** Who is calling, as the authorizers established it. */
export type Caller =
  | { kind: 'user'; userId: string; email?: string; groups: string[]; isPlatformAdmin: boolean }
  /**
   * `memberId`: the member the key acts for, whose current permissions bound its scopes.
   * `createdAt`: when the key was made; a key older than its member's current membership is not theirs any more.
   * `expiresAt`: when the key stops working, if ever; a key it makes cannot outlive it.
   */
  | {
      kind: 'apiClient';
      clientId: string;
      orgId: string;
      scopes: string[];
      memberId: string;
      createdAt: string;
      expiresAt?: string;
    }
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
  /**
   * The role of the member whose rights the call carries: the user's own (`role`), or for an API
   * client, its member's. What the rank rules compare, so a key never outranks its member.
   */
  readonly memberRole?: string;
  readonly permissions: ReadonlySet<string>;
  readonly actorId: string;
  readonly actorType: 'user' | 'apiClient';
  /** What a route asked to read with the authorization (`reads` of `authorizeOrg`), in order: null for a missing item. */
  readonly preloaded?: readonly unknown[];
}

/** An item to read with the authorization, in its one request: what `transactGet` takes. */
export type PreloadRead = Parameters<typeof transactGet<[unknown]>>[0][0];

const notFound = () => new NotFoundError('Organization not found');

/**
 * What every route answers a user whose account was deleted (their access token outlives the
 * deletion until it expires): the same 404 as `GET /v1/me`, as if the profile did not exist.
 */
export const accountGone = () => new NotFoundError('Your profile does not exist or was deleted');

/** A profile marked deleted: what the reads folded into a route's own request refuse. */
export const isAccountDeleted = (user: Pick<User, 'deletedAt'> | null | undefined) => !!user?.deletedAt;

/** The read of a user's profile, to fold into a `transactGet` a route makes anyway (then `isAccountDeleted`). */
export const accountRead = (userId: string) => ({ op: db.user.get({ userId }), entity: db.user });

const userCheck = (userId: string, condition: (attributes: any, operations: any) => string): WriteItem =>
  conditionCheck(db.user, { userId }, condition);

/** A ConditionCheck that the user's account is not deleted, to fold into a write a route makes anyway. */
export const accountNotDeletedCheck = (userId: string): WriteItem =>
  userCheck(userId, ({ deletedAt }, { notExists }) => notExists(deletedAt));

/**
 * A ConditionCheck that the user's account is open: there, not deleted, and not being deleted
 * (`deleteAccount` closes it with `isActive: false` before it reads the memberships to end).
 * Every write that makes someone a member or an owner (an accepted invitation, a promotion, a
 * reactivation, a transfer, a new team) carries it in its transaction: none can land between the
 * deletion's read and its writes, so no deleted account is left a live member or a counted owner.
 */
export const openAccountCheck = (userId: string): WriteItem =>
  userCheck(
    userId,
    ({ userId: id, deletedAt, isActive }, { eq, exists, notExists }) =>
      `${exists(id)} AND ${notExists(deletedAt)} AND (${notExists(isActive)} OR ${eq(isActive, true)})`,
  );

/**
 * Refuses a missing or deleted profile, with one read: for the routes that read no membership (a
 * deleted user's memberships are all inactive, so `authorizeOrg` refuses them without it).
 */
export async function requireLiveAccount(userId: string): Promise<User> {
  const { data } = await db.user.get({ userId }).go({ consistent: true });
  if (!data || isAccountDeleted(data)) throw accountGone();
  return data;
}

export function permissionsOfRole(org: Organization, role: string): readonly string[] {
  if (isBuiltInRole(role)) return BUILT_IN_ROLE_PERMISSIONS[role];
  return [...(org.roles?.find((r) => r.roleId === role)?.permissions ?? [])];
}

export function isMembershipLive(m: Membership | null | undefined, now = new Date()): m is Membership {
  return !!m && m.isActive !== false && (!m.expiresAt || new Date(m.expiresAt) > now);
}

/**
 * What a member may do by their role alone: the bound of the API clients they create. A
 * platform admin's group does not travel with a key, and a member who is gone bounds nothing.
 */
export function memberPermissions(org: Organization, membership: Membership | null | undefined): ReadonlySet<string> {
  return new Set(isMembershipLive(membership) ? permissionsOfRole(org, membership.role) : []);
}

/**
 * Whether an API client made at `key.createdAt` acts for `member` now: the member is live, and the
 * key was made during their current membership. A member who left and came back starts a new
 * membership: keys of the earlier one are theirs no more, even before the departures stream has
 * revoked them. The one rule, for `authorizeOrg` (401) and for the keys' list (no effective scopes).
 */
export function keyActsFor(key: { createdAt: string }, member: Membership | null | undefined): member is Membership {
  return isMembershipLive(member) && key.createdAt >= member.createdAt;
}

/**
 * What an API client may do now: its stored scopes clipped by its member's current permissions
 * (nothing once the key no longer acts for them: `keyActsFor`). The one rule, for `authorizeOrg`
 * and for the keys' list.
 */
export function effectiveScopes(
  key: { scopes: readonly string[]; createdAt: string },
  org: Organization,
  member: Membership | null | undefined,
): string[] {
  if (!keyActsFor(key, member)) return [];
  const bound = memberPermissions(org, member);
  return key.scopes.filter((s) => bound.has(s));
}

/**
 * Authorizes `caller` for `permission` in `orgId` with one consistent read of the
 * membership and the organization (and of the `reads` a route needs next, in the same
 * request: they reach it through `access.preloaded` only once the caller is authorized). A caller who is not a member gets 404, as if the
 * organization did not exist; a member without the permission gets 403.
 *
 * An API client acts within its scopes AND its member's current permissions: the same read
 * fetches that member, so a demotion or a custom role that shrinks holds at the next call,
 * and a key whose member has left (or is suspended) authenticates no more (401).
 */
export async function authorizeOrg(
  caller: Caller,
  orgId: string,
  permission?: Permission,
  reads: readonly PreloadRead[] = [],
): Promise<OrgAccess> {
  if (caller.kind === 'anonymous') throw notFound();

  if (caller.kind === 'apiClient') {
    if (caller.orgId !== orgId) throw notFound();
    // The member the key acts for is read with the organization, in the same one request.
    const [member, org, ...preloaded] = (await transactGet<unknown[]>([
      { op: db.membership.get({ orgId, userId: caller.memberId }), entity: db.membership },
      { op: db.organization.get({ orgId }), entity: db.organization },
      ...reads,
    ])) as [Membership | null, Organization | null, ...unknown[]];
    if (!org || org.deletedAt) throw notFound();
    if (!keyActsFor(caller, member))
      throw new UnauthenticatedError(
        isMembershipLive(member)
          ? 'This API key no longer works: it was made before its member last joined the organization'
          : 'This API key no longer works: the member it acts for is no longer an active member',
      );
    const bound = memberPermissions(org, member);
    if (permission && !caller.scopes.includes(permission))
      throw new ForbiddenError(`This API client lacks the scope ${permission}`);
    if (permission && !bound.has(permission))
      throw new ForbiddenError(`The member this API client acts for no longer holds ${permission}`);
    return {
      orgId,
      org,
      caller,
      memberRole: member.role,
      permissions: new Set(effectiveScopes(caller, org, member)),
      actorId: caller.clientId,
      actorType: 'apiClient',
      preloaded,
    };
  }

  // A platform admin's powers come from the token's group, not a membership: their profile is read
  // in the same request, so a deleted admin's token (valid until it expires) carries none of them.
  const [membership, org, ...rest] = (await transactGet<unknown[]>([
    { op: db.membership.get({ orgId, userId: caller.userId }), entity: db.membership },
    { op: db.organization.get({ orgId }), entity: db.organization },
    ...reads,
    ...(caller.isPlatformAdmin ? [accountRead(caller.userId)] : []),
  ])) as [Membership | null, Organization | null, ...unknown[]];
  const preloaded = caller.isPlatformAdmin ? rest.slice(0, -1) : rest;
  if (caller.isPlatformAdmin && isAccountDeleted(rest.at(-1) as User | null)) throw accountGone();
  if (!org || org.deletedAt) throw notFound();

  if (!isMembershipLive(membership)) {
    if (!caller.isPlatformAdmin) throw notFound();
    return { orgId, org, caller, permissions: new Set(PERMISSIONS), actorId: caller.userId, actorType: 'user', preloaded };
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
    memberRole: membership.role,
    permissions,
    actorId: caller.userId,
    actorType: 'user',
    preloaded,
  };
}

/**
 * The access of a route whose organization is optional (`?orgId=`): authorized when one is named
 * (the membership refuses a deleted account); when none is, a user's account is read instead. For
 * the routes that say `refusesDeletedAccount`, so the HTTP kit does not read it as well. An API
 * key's own organization is authorized by the HTTP kit on every route (`authorized`): named, it is
 * not read again.
 */
export async function authorizeOptionalOrg(
  caller: Caller,
  orgId: string | undefined,
  permission?: Permission,
  authorized?: OrgAccess,
): Promise<OrgAccess | undefined> {
  if (authorized && orgId === authorized.orgId) {
    if (permission && !authorized.permissions.has(permission))
      throw new ForbiddenError(
        caller.kind !== 'apiClient'
          ? `Your role in this organization does not grant ${permission}`
          : caller.scopes.includes(permission)
            ? `The member this API client acts for no longer holds ${permission}`
            : `This API client lacks the scope ${permission}`,
      );
    return authorized;
  }
  if (orgId) return authorizeOrg(caller, orgId, permission);
  if (caller.kind === 'user') await requireLiveAccount(caller.userId);
  return undefined;
}
