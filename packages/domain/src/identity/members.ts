import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError, ValidationError } from '../shared/errors.ts';
import { auditBy, auditItem } from './audit.ts';
import { isMembershipLive, openAccountCheck, permissionsOfRole, type OrgAccess } from './access.ts';
import { db, type Membership } from './entities.ts';
import { ROLE_RANK, isBuiltInRole } from './permissions.ts';
import {
  conditionCheck,
  put,
  remove,
  returningOnFailure,
  transactWrite,
  update,
  type WriteItem,
} from '../shared/transactions.ts';
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
export function actsAsOwner(access: OrgAccess) {
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

/**
 * The member `userId` of the organization and another live owner (the first by id), from the
 * organization's memberships, paged through only until both are found: one request for any
 * organization whose members fit a page (some thousands).
 */
export async function memberAndHeir(orgId: string, userId: string): Promise<{ member?: Membership; heir?: Membership }> {
  const query = db.membership.query
    .byOrg({ orgId })
    .where(({ userId: id, role }, { eq }) => `${eq(id, userId)} OR ${eq(role, 'owner')}`);
  let member: Membership | undefined;
  let heir: Membership | undefined;
  let cursor: string | null = null;
  do {
    const page: { data: Membership[]; cursor: string | null } = await query.go({ consistent: true, cursor });
    member ??= page.data.find((m) => m.userId === userId);
    heir ??= page.data.find((m) => m.userId !== userId && m.role === 'owner' && isMembershipLive(m));
    cursor = page.cursor;
  } while (cursor && !(member && heir));
  return { member, heir };
}

/**
 * The member a change is about and, when they are the recorded owner (`ownerId`), the live owner
 * who would take the record over: read together, in the one request the member's read costs.
 */
async function requireMemberAndHeir(access: OrgAccess, userId: string): Promise<{ target: Membership; heir?: Membership }> {
  if (userId !== access.org.ownerId) return { target: await requireMember(access, userId) };
  const { member, heir } = await memberAndHeir(access.orgId, userId);
  if (!member) throw new NotFoundError('Member not found');
  return { target: member, heir };
}

type Ops = { eq(a: unknown, v: unknown): string; notExists(a: unknown): string };
type CompareOps = { gt(a: unknown, v: unknown): string; lte(a: unknown, v: unknown): string };
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

/**
 * The member whose rights a call carries: the user themselves, or the member an API key acts
 * for. None for a platform admin, whose powers come from their group, not a membership.
 */
export function actingMemberId(access: OrgAccess): string | undefined {
  if (access.caller.kind === 'apiClient') return access.caller.memberId;
  return access.caller.isPlatformAdmin ? undefined : access.caller.userId;
}

/**
 * A ConditionCheck that the member whose rights a call carries (`actingMemberId`) still holds
 * them as the authorization read them, for a write that hands out access (an invitation): one
 * who left or was removed between that read and the write would otherwise act as a member
 * still. A user's membership must be as read (`asRead`); the member an API key acts for must
 * still be a live member with the role read, of a membership the key was made during
 * (`keyActsFor`). None for a platform admin.
 */
export function actingMemberCheck(access: OrgAccess, now: string): WriteItem | undefined {
  const { caller, orgId } = access;
  if (caller.kind === 'apiClient')
    return conditionCheck(
      db.membership,
      { orgId, userId: caller.memberId },
      ({ role, isActive, expiresAt, createdAt }: MembershipAttributes & { createdAt: unknown }, ops: Ops & CompareOps) =>
        [
          ops.eq(role, access.memberRole),
          `(${ops.notExists(isActive)} OR ${ops.eq(isActive, true)})`,
          `(${ops.notExists(expiresAt)} OR ${ops.gt(expiresAt, now)})`,
          ops.lte(createdAt, caller.createdAt),
        ].join(' AND '),
    );
  if (caller.isPlatformAdmin || !access.membership) return undefined;
  return conditionCheck(db.membership, { orgId, userId: caller.userId }, asRead(access.membership));
}

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

/** What a member change does to the organization's owners: the organization's part of its write. */
export interface OwnerChange {
  /** The member changed. */
  userId: string;
  /** +1 when they become a live owner, -1 when they stop being one, else 0. */
  delta: number;
  /** When `userId` is the recorded owner (`ownerId`) and stops being a live owner: the live owner who takes the record over. */
  heir?: Membership;
  /** When the change gives a custom role: the organization's version read, which it must still be. */
  version?: number;
}

/**
 * The organization's part of a member change, in the change's transaction, under conditions:
 * - the owner count it moves, never below one (an organization always keeps a live owner);
 * - the recorded owner (`ownerId`), which names a live owner: when the change ends or demotes
 *   them, it passes to `heir`, provided the organization still records them and the heir is still
 *   the live owner read (a ConditionCheck). Any other change that ends an owner requires that the
 *   record does not name them: one that lands after the record passed to them is a 409, never a
 *   record naming someone who is no longer an owner;
 * - when it gives a custom role, a version bump under the version read. The role was found on that
 *   read, so a role deleted since fails this write; and a role deletion that counted the holders
 *   before this write fails its own condition on the version. One of the two is a 409: no member is
 *   left holding a role that no longer exists. (A ConditionCheck alone would not stop the second case.)
 */
export function organizationChange(orgId: string, { userId, delta, heir, version }: OwnerChange): WriteItem[] {
  if (!delta && !heir && version === undefined) return [];
  const change = db.organization
    .patch({ orgId })
    .add({ ...(delta ? { ownerCount: delta } : {}), ...(version !== undefined ? { version: 1 } : {}) })
    .set(heir ? { ownerId: heir.userId } : {});
  const conditioned =
    delta < 0 || heir || version !== undefined
      ? change.where(({ ownerCount, ownerId, version: v }, { eq, ne, gt }) =>
          [
            ...(delta < 0 ? [gt(ownerCount, 1)] : []),
            ...(heir ? [eq(ownerId, userId)] : delta < 0 ? [ne(ownerId, userId)] : []),
            ...(version !== undefined ? [eq(v, version)] : []),
          ].join(' AND '),
        )
      : change;
  return [
    returningOnFailure(update(conditioned)),
    ...(heir ? [conditionCheck(db.membership, { orgId, userId: heir.userId }, asRead(heir))] : []),
  ];
}

/** Why the organization's part of a change (`organizationChange`) refused it, from the organization as it was then. */
export function organizationRefusal(org: Record<string, unknown> | undefined, change: OwnerChange) {
  const recorded = org?.ownerId;
  if (change.heir ? recorded !== change.userId : change.delta < 0 && recorded === change.userId) return ownersChanged();
  if (change.version !== undefined && org?.version !== change.version) return rolesChanged();
  return lastOwner();
}

const ownersChanged = () =>
  new ConflictError('The organization’s owners changed meanwhile; nothing was changed: read its members again and retry');

const rolesChanged = () =>
  new ConflictError(
    'The organization changed since it was read (its roles may have); nothing was changed: read its roles again and retry',
  );

export interface MemberPatch {
  role?: string;
  expiresAt?: string | null;
  isActive?: boolean;
}

/** The fields of `patch` that differ from the member as read. */
function changesTo(target: Membership, patch: MemberPatch): MemberPatch {
  const changes: MemberPatch = {};
  if (patch.role !== undefined && patch.role !== target.role) changes.role = patch.role;
  if (patch.isActive !== undefined && patch.isActive !== (target.isActive !== false)) changes.isActive = patch.isActive;
  if (patch.expiresAt !== undefined && (patch.expiresAt ?? undefined) !== target.expiresAt) changes.expiresAt = patch.expiresAt;
  return changes;
}

/**
 * Changes a member's role, activity or expiry. The write is conditioned on the member being as
 * read, so two changes at once cannot both move the owner count; a refused one changes nothing.
 */
export async function updateMember(access: OrgAccess, userId: string, sent: MemberPatch): Promise<Membership> {
  const { target, heir } = await requireMemberAndHeir(access, userId);
  if (sent.role) assertRoleExists(access, sent.role);
  assertMayManage(access, target, sent);
  // What the member already is changes nothing: a request sent again (a client's retry) writes,
  // stamps and audits nothing a second time, and answers the member as it is.
  const patch = changesTo(target, sent);
  if (!Object.keys(patch).length) return target;
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
  // The recorded owner who stops being a live owner (steps down, is suspended) hands the record on.
  const handsOver = userId === access.org.ownerId && !isOwner;
  if (handsOver && delta < 0 && !heir) throw lastOwner();
  const change: OwnerChange = {
    userId,
    delta,
    ...(handsOver && heir ? { heir } : {}),
    ...(givesCustomRole ? { version: access.org.version ?? 1 } : {}),
  };
  const orgChange = organizationChange(access.orgId, change);
  // A reactivated member, a new live owner, and anyone made owner must have an open account (else
  // a 422): a deleted account's membership is inactive, so making it owner moves no count.
  const accountCheck = reactivated || delta > 0 || patch.role === 'owner' ? [openAccountCheck(userId)] : [];
  const result = await transactWrite([
    returningOnFailure(update((patch.expiresAt === null ? membership.remove(['expiresAt']) : membership).where(asRead(target)))),
    ...accountCheck,
    ...orgChange,
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
    if (accountCheck.length && failed(result.reasons[1])) throw accountDeleted();
    const org = 1 + accountCheck.length;
    if (orgChange.length && failed(result.reasons[org])) throw organizationRefusal(result.items[org], change);
    throw ownersChanged();
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
  const { target, heir } = await requireMemberAndHeir(access, userId);
  if (action === 'member.removed') assertMayManage(access, target);
  if (access.org.orgType === 'SOLO' && userId === access.org.ownerId)
    throw new UnprocessableError('You cannot leave your personal organization');
  const wasOwner = target.role === 'owner' && target.isActive !== false;
  // The recorded owner who leaves (or is removed) hands the record on.
  const handsOver = userId === access.org.ownerId;
  if (handsOver && wasOwner && !heir) throw lastOwner();
  const change: OwnerChange = { userId, delta: wasOwner ? -1 : 0, ...(handsOver && heir ? { heir } : {}) };
  const orgChange = organizationChange(access.orgId, change);
  const result = await transactWrite([
    // Removed as read: a member made owner (or removed) meanwhile is not removed on a stale decision.
    returningOnFailure(remove(db.membership.delete({ orgId: access.orgId, userId }).where(asRead(target)))),
    ...orgChange,
    put(
      db.auditEvent.create(
        auditItem({ ...auditBy(access), action, targetType: 'user', targetId: userId, details: { role: target.role } }),
      ),
    ),
  ]);
  if (!result.canceled) return;
  if (failed(result.reasons[0])) throw memberChanged(result.items[0]);
  throw orgChange.length && failed(result.reasons[1]) ? organizationRefusal(result.items[1], change) : ownersChanged();
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
