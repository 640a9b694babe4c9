import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError, ValidationError } from '../shared/errors.ts';
import { auditBy, auditItem } from './audit.ts';
import { isMembershipLive, openAccountCheck, permissionsOfRole, type OrgAccess } from './access.ts';
import { db, type Membership } from './entities.ts';
import { ROLE_RANK, isBuiltInRole } from './permissions.ts';
import { put, remove, returningOnFailure, transactWrite, update, type WriteItem } from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';

export async function listMembers(access: OrgAccess, options: { cursor?: string; limit?: number }) {
  const { data, cursor } = await pageOf(db.membership.query.byOrg({ orgId: access.orgId }), {
    cursor: options.cursor,
    limit: options.limit ?? 50,
    order: 'asc',
  });
  return { items: data, nextCursor: cursor };
}

/** A role must be built in or one of the organization's custom roles. */
export function assertRoleExists(access: OrgAccess, role: string) {
  if (isBuiltInRole(role) || access.org.roles?.some((r) => r.roleId === role)) return;
  throw new ValidationError(`Unknown role ${role}`, [{ path: 'role', message: 'Not a role of this organization' }]);
}

const rank = (role: string) => (isBuiltInRole(role) ? ROLE_RANK[role] : ROLE_RANK.editor);

/** A role may be given only by someone who holds every permission it grants. */
export function assertMayGrant(access: OrgAccess, role: string) {
  const beyond = permissionsOfRole(access.org, role).filter((p) => !access.permissions.has(p));
  if (beyond.length) throw new ForbiddenError(`You cannot give a role with permissions you do not hold: ${beyond.join(', ')}`);
}

/**
 * Whether a member's expiry is lifted (cleared) or pushed later by `expiresAt` (`null` clears it).
 * Setting one where there was none, or bringing it forward, only narrows their access.
 */
function loosensExpiry(target: Membership, expiresAt: string | null | undefined) {
  if (!target.expiresAt || expiresAt === undefined) return false;
  return expiresAt === null || new Date(expiresAt) > new Date(target.expiresAt);
}

/**
 * Ownership is a role, not a permission: the caller acts as an owner if their role is owner (an
 * API client of an owner only with the `members:transfer-ownership` scope), or as a platform
 * admin. A custom role ranks as an editor whatever it holds, `members:transfer-ownership` too,
 * just as `transferOwnership` refuses anyone but an owner.
 */
function actsAsOwner(access: OrgAccess) {
  if (access.caller.kind === 'user' && access.caller.isPlatformAdmin) return true;
  return access.memberRole === 'owner' && access.permissions.has('members:transfer-ownership');
}

/**
 * Nobody hands out or takes away more than they hold: only owners touch owners, nobody changes
 * someone who outranks them, and only an owner or someone who outranks a temporary member lifts
 * or extends their expiry (a temporary admin cannot make themselves permanent). An API client is
 * ranked by the role of the member it acts for, as that member would be.
 */
export function assertMayManage(
  access: OrgAccess,
  target: Membership,
  change: { role?: string; expiresAt?: string | null } = {},
) {
  const callerIsOwner = actsAsOwner(access);
  if ((target.role === 'owner' || change.role === 'owner') && !callerIsOwner)
    throw new ForbiddenError('Only an owner can change an owner or make one');
  const callerRole = access.memberRole;
  if (!callerIsOwner && (!callerRole || rank(target.role) > rank(callerRole)))
    throw new ForbiddenError('You cannot change a member whose role outranks yours');
  const outranksTarget = callerIsOwner || (!!callerRole && rank(callerRole) > rank(target.role));
  if (loosensExpiry(target, change.expiresAt) && !outranksTarget)
    throw new ForbiddenError('Only an owner or someone whose role outranks this member can lift or extend their expiry');
  if (change.role) assertMayGrant(access, change.role);
}

async function requireMember(access: OrgAccess, userId: string): Promise<Membership> {
  const { data } = await db.membership.get({ orgId: access.orgId, userId }).go({ consistent: true });
  if (!data) throw new NotFoundError('Member not found');
  return data;
}

type Ops = { eq(a: unknown, v: unknown): string; notExists(a: unknown): string };
type MembershipAttributes = { role: unknown; isActive: unknown; expiresAt: unknown };

/**
 * The condition that a membership is still as it was read (role, active or not, expiry): a write
 * under it cannot apply a decision taken on a stale read, such as the owner count it moves.
 */
export const asRead =
  (read: Membership) =>
  ({ role, isActive, expiresAt }: MembershipAttributes, { eq, notExists }: Ops) =>
    [
      eq(role, read.role),
      read.isActive === false ? eq(isActive, false) : `(${notExists(isActive)} OR ${eq(isActive, true)})`,
      read.expiresAt ? eq(expiresAt, read.expiresAt) : notExists(expiresAt),
    ].join(' AND ');

const failed = (reason: string | undefined) => reason === 'ConditionalCheckFailed';

/** Why a member's write was refused because the member is not as read: gone (404) or changed (409). */
function memberChanged(current: Record<string, unknown> | undefined) {
  return current
    ? new ConflictError('The member changed meanwhile; nothing was changed: read it again and retry')
    : new NotFoundError('Member not found');
}

const lastOwner = () => new ConflictError('An organization always keeps an owner; make someone else owner first');
const accountDeleted = () =>
  new UnprocessableError(
    'This member deleted their account (or is deleting it): their membership cannot be reactivated nor made owner',
  );

/** Changing who is an owner moves the owner count in the same transaction, under a condition. */
export function ownerCountChange(orgId: string, delta: number) {
  const change = db.organization.patch({ orgId }).add({ ownerCount: delta });
  return update(delta < 0 ? change.where(({ ownerCount }, { gt }) => gt(ownerCount, 1)) : change);
}

/**
 * The organization's part of a member change: the owner count it moves and, when it gives a
 * custom role, a version bump under the version read. The role was found on that read, so a
 * role deleted since fails this write; and a role deletion that counted the holders before this
 * write fails its own condition on the version. One of the two is a 409: no member is left
 * holding a role that no longer exists. (A ConditionCheck alone would not stop the second case.)
 */
function organizationChange(access: OrgAccess, delta: number, givesCustomRole: boolean): WriteItem[] {
  if (!givesCustomRole) return delta ? [ownerCountChange(access.orgId, delta)] : [];
  const version = access.org.version ?? 1;
  const change = db.organization.patch({ orgId: access.orgId }).add({ version: 1, ...(delta ? { ownerCount: delta } : {}) });
  return [
    returningOnFailure(
      update(
        change.where(({ version: v, ownerCount }, { eq, gt }) =>
          delta < 0 ? `${eq(v, version)} AND ${gt(ownerCount, 1)}` : eq(v, version),
        ),
      ),
    ),
  ];
}

const rolesChanged = () =>
  new ConflictError(
    'The organization changed since it was read (its roles may have); nothing was changed: read its roles again and retry',
  );

export interface MemberPatch {
  role?: string;
  expiresAt?: string | null;
  isActive?: boolean;
}

/**
 * Changes a member's role, activity or expiry. The write is conditioned on the member being as
 * read, so two changes at once cannot both move the owner count; a refused one changes nothing.
 */
export async function updateMember(access: OrgAccess, userId: string, patch: MemberPatch): Promise<Membership> {
  const target = await requireMember(access, userId);
  if (patch.role) assertRoleExists(access, patch.role);
  assertMayManage(access, target, patch);
  const wasOwner = target.role === 'owner' && target.isActive !== false;
  const nextRole = patch.role ?? target.role;
  const nextExpiresAt = patch.expiresAt === null ? undefined : (patch.expiresAt ?? target.expiresAt);
  // The owner count does not follow expiries: an owner whose membership lapsed would leave none.
  if (nextRole === 'owner' && nextExpiresAt)
    throw new UnprocessableError('An owner’s membership cannot expire; clear the expiry or give another role');
  const nextActive = patch.isActive ?? target.isActive !== false;
  const isOwner = nextRole === 'owner' && nextActive;
  const delta = Number(isOwner) - Number(wasOwner);
  const reactivated = nextActive && target.isActive === false;
  const set: Record<string, unknown> = {};
  if (patch.role) Object.assign(set, { role: patch.role, assignedBy: access.actorId, assignedAt: new Date().toISOString() });
  if (patch.isActive !== undefined) set.isActive = patch.isActive;
  if (patch.expiresAt) set.expiresAt = patch.expiresAt;
  const membership = db.membership.patch({ orgId: access.orgId, userId }).set(set);
  const givesCustomRole = !!patch.role && !isBuiltInRole(patch.role);
  const orgChange = organizationChange(access, delta, givesCustomRole);
  const accountCheck = reactivated || delta > 0 ? [openAccountCheck(userId)] : [];
  const result = await transactWrite([
    returningOnFailure(update((patch.expiresAt === null ? membership.remove(['expiresAt']) : membership).where(asRead(target)))),
    ...orgChange,
    ...accountCheck,
    put(
      db.auditEvent.create(
        auditItem({
          ...auditBy(access),
          action: patch.role && patch.role !== target.role ? 'member.role-changed' : 'member.updated',
          targetType: 'user',
          targetId: userId,
          details: { from: target.role, ...patch },
        }),
      ),
    ),
  ]);
  if (result.canceled) {
    if (failed(result.reasons[0])) throw memberChanged(result.items[0]);
    if (orgChange.length && failed(result.reasons[1])) {
      const org = result.items[1];
      throw givesCustomRole && org?.version !== (access.org.version ?? 1) ? rolesChanged() : lastOwner();
    }
    throw accountDeleted();
  }
  return {
    ...target,
    ...set,
    ...(patch.expiresAt === null ? { expiresAt: undefined } : {}),
    updatedAt: new Date().toISOString(),
  } as Membership;
}

export async function removeMember(
  access: OrgAccess,
  userId: string,
  action: 'member.removed' | 'member.left' = 'member.removed',
) {
  const target = await requireMember(access, userId);
  if (action === 'member.removed') assertMayManage(access, target);
  if (access.org.orgType === 'SOLO' && userId === access.org.ownerId)
    throw new UnprocessableError('You cannot leave your personal organization');
  const wasOwner = target.role === 'owner' && target.isActive !== false;
  const result = await transactWrite([
    // Removed as read: a member made owner (or removed) meanwhile is not removed on a stale decision.
    returningOnFailure(remove(db.membership.delete({ orgId: access.orgId, userId }).where(asRead(target)))),
    ...(wasOwner ? [ownerCountChange(access.orgId, -1)] : []),
    put(
      db.auditEvent.create(
        auditItem({ ...auditBy(access), action, targetType: 'user', targetId: userId, details: { role: target.role } }),
      ),
    ),
  ]);
  if (result.canceled) throw failed(result.reasons[0]) ? memberChanged(result.items[0]) : lastOwner();
}

/**
 * Hands the organization to another member: they become owner (and the recorded owner),
 * the caller steps down to admin. Both in one transaction, under conditions: the heir is still
 * the live member that was read (and their account open), the caller still an owner. Two
 * transfers at once, or a transfer racing the heir's removal, cannot both happen: one is a 409.
 */
export async function transferOwnership(access: OrgAccess, toUserId: string) {
  if (access.caller.kind !== 'user' || access.role !== 'owner') throw new ForbiddenError('Only an owner can transfer ownership');
  if (toUserId === access.actorId) throw new UnprocessableError('You already own this organization');
  if (access.org.orgType === 'SOLO') throw new UnprocessableError('A personal organization cannot change hands');
  const target = await requireMember(access, toUserId);
  if (!isMembershipLive(target)) throw new UnprocessableError('That member is not active');
  const now = new Date().toISOString();
  const becomesOwner = target.role !== 'owner';
  const result = await transactWrite([
    returningOnFailure(
      update(
        db.membership
          .patch({ orgId: access.orgId, userId: toUserId })
          .set({ role: 'owner', assignedBy: access.actorId, assignedAt: now })
          .remove(['expiresAt'])
          .where(asRead(target)),
      ),
    ),
    update(
      db.membership
        .patch({ orgId: access.orgId, userId: access.actorId })
        .set({ role: 'admin', assignedBy: access.actorId, assignedAt: now })
        .where(
          ({ role, isActive }, { eq, notExists }) => `${eq(role, 'owner')} AND (${notExists(isActive)} OR ${eq(isActive, true)})`,
        ),
    ),
    update(
      db.organization
        .patch({ orgId: access.orgId })
        .set({ ownerId: toUserId })
        .add({ ownerCount: becomesOwner ? 0 : -1 }),
    ),
    openAccountCheck(toUserId),
    put(
      db.auditEvent.create(
        auditItem({
          ...auditBy(access),
          action: 'org.ownership-transferred',
          targetType: 'user',
          targetId: toUserId,
          details: { from: access.actorId, to: toUserId },
        }),
      ),
    ),
  ]);
  if (!result.canceled) return;
  const [heir, caller, , account] = result.reasons.map(failed);
  if (heir)
    throw new ConflictError(
      result.items[0]
        ? 'That member changed meanwhile; nothing was transferred: read the members again and retry'
        : 'That member is no longer in the organization; nothing was transferred',
    );
  if (caller) throw new ConflictError('You are no longer an owner of this organization; nothing was transferred');
  if (account) throw new UnprocessableError('That member deleted their account (or is deleting it); nothing was transferred');
  throw new ConflictError('The organization changed meanwhile; nothing was transferred: retry');
}
