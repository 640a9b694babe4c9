import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError, ValidationError } from '../shared/errors.ts';
import { auditBy, auditItem } from './audit.ts';
import { isMembershipLive, permissionsOfRole, type OrgAccess } from './access.ts';
import { db, type Membership } from './entities.ts';
import { ROLE_RANK, isBuiltInRole } from './permissions.ts';
import { put, remove, transactWrite, update } from '../shared/transactions.ts';
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

/** Nobody hands out or takes away more than they hold: only owners touch owners. */
function assertMayManage(access: OrgAccess, target: Membership, newRole?: string) {
  const callerIsOwner = access.role === 'owner' || access.permissions.has('members:transfer-ownership');
  if ((target.role === 'owner' || newRole === 'owner') && !callerIsOwner)
    throw new ForbiddenError('Only an owner can change an owner or make one');
  if (access.role && !callerIsOwner && rank(target.role) > rank(access.role))
    throw new ForbiddenError('You cannot change a member whose role outranks yours');
  if (newRole) assertMayGrant(access, newRole);
}

async function requireMember(access: OrgAccess, userId: string): Promise<Membership> {
  const { data } = await db.membership.get({ orgId: access.orgId, userId }).go({ consistent: true });
  if (!data) throw new NotFoundError('Member not found');
  return data;
}

/** Changing who is an owner moves the owner count in the same transaction, under a condition. */
function ownerCountChange(orgId: string, delta: number) {
  const change = db.organization.patch({ orgId }).add({ ownerCount: delta });
  return update(delta < 0 ? change.where(({ ownerCount }, { gt }) => gt(ownerCount, 1)) : change);
}

export interface MemberPatch {
  role?: string;
  expiresAt?: string | null;
  isActive?: boolean;
}

export async function updateMember(access: OrgAccess, userId: string, patch: MemberPatch): Promise<Membership> {
  const target = await requireMember(access, userId);
  if (patch.role) assertRoleExists(access, patch.role);
  assertMayManage(access, target, patch.role);
  const wasOwner = target.role === 'owner' && target.isActive !== false;
  const nextRole = patch.role ?? target.role;
  const nextExpiresAt = patch.expiresAt === null ? undefined : (patch.expiresAt ?? target.expiresAt);
  // The owner count does not follow expiries: an owner whose membership lapsed would leave none.
  if (nextRole === 'owner' && nextExpiresAt)
    throw new UnprocessableError('An owner’s membership cannot expire; clear the expiry or give another role');
  const nextActive = patch.isActive ?? target.isActive !== false;
  const isOwner = nextRole === 'owner' && nextActive;
  const delta = Number(isOwner) - Number(wasOwner);
  const set: Record<string, unknown> = {};
  if (patch.role) Object.assign(set, { role: patch.role, assignedBy: access.actorId, assignedAt: new Date().toISOString() });
  if (patch.isActive !== undefined) set.isActive = patch.isActive;
  if (patch.expiresAt) set.expiresAt = patch.expiresAt;
  const result = await transactWrite([
    update(
      patch.expiresAt === null
        ? db.membership.patch({ orgId: access.orgId, userId }).set(set).remove(['expiresAt'])
        : db.membership.patch({ orgId: access.orgId, userId }).set(set),
    ),
    ...(delta ? [ownerCountChange(access.orgId, delta)] : []),
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
  if (result.canceled) throw new ConflictError('An organization always keeps an owner; make someone else owner first');
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
    remove(db.membership.delete({ orgId: access.orgId, userId })),
    ...(wasOwner ? [ownerCountChange(access.orgId, -1)] : []),
    put(
      db.auditEvent.create(
        auditItem({ ...auditBy(access), action, targetType: 'user', targetId: userId, details: { role: target.role } }),
      ),
    ),
  ]);
  if (result.canceled) throw new ConflictError('An organization always keeps an owner; make someone else owner first');
}

/**
 * Hands the organization to another member: they become owner (and the recorded owner),
 * the caller steps down to admin. Both in one transaction.
 */
export async function transferOwnership(access: OrgAccess, toUserId: string) {
  if (access.caller.kind !== 'user' || access.role !== 'owner') throw new ForbiddenError('Only an owner can transfer ownership');
  if (toUserId === access.actorId) throw new UnprocessableError('You already own this organization');
  if (access.org.orgType === 'SOLO') throw new UnprocessableError('A personal organization cannot change hands');
  const target = await requireMember(access, toUserId);
  if (!isMembershipLive(target)) throw new UnprocessableError('That member is not active');
  const now = new Date().toISOString();
  const becomesOwner = target.role !== 'owner';
  await transactWrite([
    update(
      db.membership
        .patch({ orgId: access.orgId, userId: toUserId })
        .set({ role: 'owner', assignedBy: access.actorId, assignedAt: now })
        .remove(['expiresAt']),
    ),
    update(
      db.membership
        .patch({ orgId: access.orgId, userId: access.actorId })
        .set({ role: 'admin', assignedBy: access.actorId, assignedAt: now }),
    ),
    update(
      db.organization
        .patch({ orgId: access.orgId })
        .set({ ownerId: toUserId })
        .add({ ownerCount: becomesOwner ? 0 : -1 }),
    ),
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
}
