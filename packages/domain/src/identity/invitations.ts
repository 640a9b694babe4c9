import { ConflictError, ForbiddenError, GoneError, NotFoundError, UnprocessableError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { sendMail } from '../shared/mail.ts';
import { auditBy, auditItem } from './audit.ts';
import { accountGone, isAccountDeleted, openAccountCheck, type OrgAccess, type UserCaller } from './access.ts';
import { db, inboxService, type Invitation, type User } from './entities.ts';
import { isBuiltInRole } from './permissions.ts';
import { actingMemberCheck, actingMemberId, actsAsOwner, assertMayGrant, assertRoleExists } from './members.ts';
import { requireUser } from './users.ts';
import {
  conditionCheck,
  liveCheck,
  put,
  returningOnFailure,
  transactGet,
  transactWrite,
  update,
  type WriteItem,
  type WriteOutcome,
} from '../shared/transactions.ts';
import { notificationPut } from '../notifications/notify.ts';
import { pageOf } from '../shared/pages.ts';

export const INVITATION_LIFETIME_DAYS = 7;
const DAY_MS = 86_400_000;

/** An invitation past its expiry reads as `expired`, whatever its stored status. */
export const invitationStatus = (i: Invitation): Invitation['status'] | 'expired' =>
  i.status === 'pending' && new Date(i.expiresAt) <= new Date() ? 'expired' : i.status;

export const invitationView = (i: Invitation) => ({ ...i, status: invitationStatus(i), ttl: undefined });

const alreadyMember = () =>
  new ConflictError('That person is already a member', [{ path: 'email', message: 'Already a member' }]);

const alreadyInvited = () =>
  new ConflictError('That person already has a pending invitation', [{ path: 'email', message: 'Already invited' }]);

/**
 * One pending invitation per address and organization, also when two are sent at once (the
 * check of the inbox before reads an index, and both would pass it): a row per address and
 * organization names the invitation last sent, and a new one takes it over only from one that
 * is no longer pending: expired, or `answered` (the last one sent, answered when the inbox was read).
 */
function pendingGuard(
  invitation: { invitationId: string; orgId: string; email: string; expiresAt: string; ttl: number },
  answered: string | undefined,
  now: string,
): WriteItem {
  const { invitationId, orgId, email, expiresAt, ttl } = invitation;
  return put(
    db.unique
      .put({ kind: 'invitation', value: `${orgId}#${email}`, ownerId: invitationId, expiresAt, ttl })
      .where(({ ownerId, expiresAt: until }, { notExists, lte, eq }) =>
        [notExists(ownerId), lte(until, now), ...(answered ? [eq(ownerId, answered)] : [])].join(' OR '),
      ),
  );
}

export async function createInvitation(access: OrgAccess, input: { email: string; role: string }) {
  const email = input.email.toLowerCase();
  assertRoleExists(access, input.role);
  // Who may make an owner may invite one: an owner, their key holding the owners' scopes, or a platform admin.
  if (input.role === 'owner' && !actsAsOwner(access))
    throw new ForbiddenError('Only an owner (or a platform admin) can invite an owner');
  assertMayGrant(access, input.role);
  if (access.org.orgType === 'SOLO') throw new UnprocessableError('A personal organization has no other members; create a team');
  const { data: inbox } = await inboxService().collections.inbox({ email }).go({ pages: 'all' });
  if (inbox.membership.some((m) => m.orgId === access.orgId)) throw alreadyMember();
  const ofThisOrg = inbox.invitation.filter((i) => i.orgId === access.orgId);
  if (ofThisOrg.some((i) => invitationStatus(i) === 'pending')) throw alreadyInvited();

  const now = Date.now();
  const invitationId = newId('inv', now);
  const expiresAt = new Date(now + INVITATION_LIFETIME_DAYS * DAY_MS).toISOString();
  // Its times named here, not stamped by the entity: the invitation answered is the one stored, to the millisecond.
  const at = new Date(now).toISOString();
  const item = {
    invitationId,
    orgId: access.orgId,
    orgName: access.org.name,
    email,
    role: input.role,
    invitedBy: access.actorId,
    expiresAt,
    ttl: Math.floor((now + (INVITATION_LIFETIME_DAYS + 30) * DAY_MS) / 1000),
    createdAt: at,
    updatedAt: at,
  };
  // Someone with an account has a membership (of their personal organization at least): the
  // inbox query above found it, so their notification joins the transaction, no request added.
  const invitee = inbox.membership.find((m) => m.isActive !== false)?.userId;
  // The member whose rights send this must be a member (the write checks it), so their own
  // address is a member's: never invited, also when the index read above lags or they leave meanwhile.
  if (invitee && invitee === actingMemberId(access))
    throw new ConflictError(
      access.caller.kind === 'apiClient'
        ? 'That is the address of the member this API key acts for: a member cannot be invited'
        : 'That is your own address: you cannot invite yourself',
      [{ path: 'email', message: 'Already a member' }],
    );
  // The guard names the last invitation sent (ids sort by time), answered if the inbox holds none pending.
  const lastSent = ofThisOrg
    .map((i) => i.invitationId)
    .sort()
    .at(-1);
  // What the reads above decided holds at the write, or nothing is written: the sender still holds
  // their rights as authorized (who left or was removed meanwhile invites nobody, themselves
  // least: a temporary admin would come back permanent), and the invitee is still no member.
  const senderCheck = actingMemberCheck(access, at);
  const inviteeCheck = invitee
    ? conditionCheck(db.membership, { orgId: access.orgId, userId: invitee }, ({ userId }, { notExists }) => notExists(userId))
    : undefined;
  const checks = [senderCheck, inviteeCheck];
  const outcome = await transactWrite([
    pendingGuard(item, lastSent, at),
    ...checks.filter((c): c is WriteItem => !!c),
    put(db.invitation.create(item)),
    put(
      db.auditEvent.create(
        auditItem({
          ...auditBy(access),
          action: 'invitation.created',
          targetType: 'invitation',
          targetId: invitationId,
          details: { email, role: input.role },
        }),
      ),
    ),
    ...(invitee
      ? [
          notificationPut({
            userId: invitee,
            orgId: access.orgId,
            type: 'invitation',
            title: `You are invited to join ${access.org.name}`,
            message: `You have been invited to join ${access.org.name} as ${input.role}. The invitation expires on ${expiresAt}.`,
            metadata: { invitationId, orgName: access.org.name, role: input.role, expiresAt },
          }).write,
        ]
      : []),
  ]);
  if (outcome.canceled) {
    const reasons = outcome.reasons.slice(1);
    if (senderCheck && reasons.shift() === 'ConditionalCheckFailed') throw senderChanged(access);
    if (inviteeCheck && reasons.shift() === 'ConditionalCheckFailed') throw alreadyMember();
    throw alreadyInvited();
  }
  const base = process.env.APP_URL ?? 'http://localhost:3000';
  const link = `${base}/v1/invitations/${invitationId}/accept`;
  await sendMail({
    to: email,
    kind: 'invitation',
    subject: `You are invited to join ${access.org.name}`,
    body: `You have been invited to join ${access.org.name} as ${input.role}. Sign in with ${email} and accept: POST ${link}. The invitation expires on ${expiresAt}.`,
    link,
  });
  return invitationView({ ...item, status: 'pending' });
}

/** The member whose rights sent an invitation is no longer as authorized: they left, were removed or changed. */
function senderChanged(access: OrgAccess) {
  return new ConflictError(
    access.caller.kind === 'apiClient'
      ? 'The member this API key acts for left the organization or changed meanwhile; nothing was sent'
      : 'Your membership changed meanwhile (you left, were removed, or your role changed); nothing was sent',
  );
}

export async function listInvitations(access: OrgAccess, options: { cursor?: string; limit?: number; status?: string }) {
  const { data, cursor } = await pageOf(db.invitation.query.byOrg({ orgId: access.orgId }), {
    cursor: options.cursor,
    limit: options.limit ?? 50,
    order: 'desc',
  });
  const items = data.map(invitationView).filter((i) => !options.status || i.status === options.status);
  return { items, nextCursor: cursor };
}

/** Answers a pending invitation, once: the condition refuses one already answered. */
function answer(invitationId: string, status: 'accepted' | 'declined' | 'revoked', at: string) {
  return returningOnFailure(
    update(
      db.invitation
        .patch({ invitationId })
        .set({ status, respondedAt: at })
        .where(({ status: current }, { eq }) => eq(current, 'pending')),
    ),
  );
}

export async function revokeInvitation(access: OrgAccess, invitationId: string) {
  const { data } = await db.invitation.get({ invitationId }).go();
  if (!data || data.orgId !== access.orgId) throw new NotFoundError('Invitation not found');
  if (data.status !== 'pending') throw new ConflictError(`The invitation is already ${data.status}`);
  const result = await transactWrite([
    answer(invitationId, 'revoked', new Date().toISOString()),
    put(
      db.auditEvent.create(
        auditItem({ ...auditBy(access), action: 'invitation.revoked', targetType: 'invitation', targetId: invitationId }),
      ),
    ),
  ]);
  if (result.canceled) throw answeredMeanwhile(result);
}

/** The invitation was answered between our read and our answer (accepted, say): ours is refused. */
function answeredMeanwhile(result: WriteOutcome) {
  const status = result.items[0]?.status;
  return new ConflictError(
    status ? `The invitation was ${status} meanwhile; nothing was changed` : 'The invitation was answered meanwhile',
  );
}

/** Only the invited person can answer, and only once, before the invitation expires. */
async function requireOwnPendingInvitation(caller: UserCaller, invitationId: string) {
  const [data, profile] = await transactGet<[Invitation, User]>([
    { op: db.invitation.get({ invitationId }), entity: db.invitation },
    { op: db.user.get({ userId: caller.userId }), entity: db.user },
  ]);
  if (!profile || isAccountDeleted(profile)) throw accountGone();
  if (!data || data.email !== profile.email.toLowerCase()) throw new NotFoundError('Invitation not found');
  const status = invitationStatus(data);
  if (status === 'expired') throw new GoneError('The invitation has expired; ask for a new one');
  if (status !== 'pending') throw new ConflictError(`The invitation is already ${status}`);
  return { inv: data, profile };
}

const roleGone = () => new ConflictError('The role of this invitation no longer exists; ask for a new invitation');

/**
 * The organization's version when it still holds the invitation's custom role: a role deleted
 * since the invitation was sent would grant nothing, so it is refused.
 */
async function versionHoldingRole(orgId: string, roleId: string) {
  const { data: org } = await db.organization.get({ orgId }).go({ consistent: true });
  if (!org || org.deletedAt) throw new NotFoundError('The organization of this invitation no longer exists');
  if (!org.roles?.some((r) => r.roleId === roleId)) throw roleGone();
  return org.version ?? 1;
}

/**
 * The organization's part of an acceptance: it must still be there; an owner also counts towards
 * its owners; and giving a custom role bumps its version under the version read (as a member
 * change does, see `organizationChange` in members.ts): a role deleted since fails this write, and
 * a deletion that counted the holders before it fails its own condition. Either way one is a 409.
 */
function organizationWrite(inv: Invitation, customRoleVersion: number | undefined): WriteItem {
  const org = db.organization.patch({ orgId: inv.orgId });
  if (inv.role === 'owner')
    return update(org.add({ ownerCount: 1 }).where(({ deletedAt }, { notExists }) => notExists(deletedAt)));
  if (customRoleVersion === undefined) return liveCheck(db.organization, { orgId: inv.orgId });
  return returningOnFailure(
    update(
      org
        .add({ version: 1 })
        .where(({ version, deletedAt }, { eq, notExists }) => `${eq(version, customRoleVersion)} AND ${notExists(deletedAt)}`),
    ),
  );
}

export async function acceptInvitation(caller: UserCaller, invitationId: string) {
  const { inv, profile } = await requireOwnPendingInvitation(caller, invitationId);
  const customRoleVersion = isBuiltInRole(inv.role) ? undefined : await versionHoldingRole(inv.orgId, inv.role);
  const now = new Date().toISOString();
  const result = await transactWrite([
    answer(invitationId, 'accepted', now),
    put(
      db.membership.create({
        orgId: inv.orgId,
        userId: profile.userId,
        email: profile.email,
        fullName: profile.fullName,
        role: inv.role,
        assignedBy: inv.invitedBy,
        assignedAt: now,
      }),
    ),
    organizationWrite(inv, customRoleVersion),
    // The account must still be open: one deleted meanwhile would be left a live member (an owner even).
    openAccountCheck(profile.userId),
    put(
      db.auditEvent.create(
        auditItem({
          orgId: inv.orgId,
          actorType: 'user',
          actorId: profile.userId,
          action: 'invitation.accepted',
          targetType: 'invitation',
          targetId: invitationId,
          details: { role: inv.role },
        }),
      ),
    ),
  ]);
  if (result.reasons[2] === 'ConditionalCheckFailed') {
    const org = result.items[2];
    if (customRoleVersion !== undefined && org && !org.deletedAt) {
      const roles = (org.roles ?? []) as Array<{ roleId?: string }>;
      if (!roles.some((r) => r.roleId === inv.role)) throw roleGone();
      throw new ConflictError('The organization changed while you accepted; nothing was changed: retry');
    }
    throw new NotFoundError('The organization of this invitation no longer exists');
  }
  if (result.reasons[3] === 'ConditionalCheckFailed')
    throw new NotFoundError('Your profile was deleted, or is being deleted: the invitation cannot be accepted');
  if (result.canceled) throw new ConflictError('The invitation was answered already, or you are already a member');
  return { orgId: inv.orgId, role: inv.role };
}

export async function declineInvitation(caller: UserCaller, invitationId: string) {
  const { inv, profile } = await requireOwnPendingInvitation(caller, invitationId);
  const result = await transactWrite([
    answer(invitationId, 'declined', new Date().toISOString()),
    put(
      db.auditEvent.create(
        auditItem({
          orgId: inv.orgId,
          actorType: 'user',
          actorId: profile.userId,
          action: 'invitation.declined',
          targetType: 'invitation',
          targetId: invitationId,
        }),
      ),
    ),
  ]);
  if (result.canceled) throw answeredMeanwhile(result);
}

/** The invitations waiting for the caller's answer, newest first: pending and unexpired, a page at a time. */
export async function listMyInvitations(caller: UserCaller, options: { cursor?: string; limit?: number } = {}) {
  const user = await requireUser(caller.userId);
  const now = new Date().toISOString();
  // Filtered in the query, so the answered and expired ones (any number of them) hide nothing behind them.
  const waiting = db.invitation.query
    .byEmail({ email: user.email.toLowerCase() })
    .where(({ status, expiresAt }, { eq, gt }) => `${eq(status, 'pending')} AND ${gt(expiresAt, now)}`);
  const { data, cursor } = await pageOf(waiting, { cursor: options.cursor, limit: options.limit ?? 50, order: 'desc' });
  const pending = data.map(invitationView).filter((i) => i.status === 'pending');
  // Invitations into organizations deleted since are no longer on offer.
  const orgIds = [...new Set(pending.map((i) => i.orgId))];
  const { data: orgs } = orgIds.length ? await db.organization.get(orgIds.map((orgId) => ({ orgId }))).go() : { data: [] };
  const live = new Set(orgs.filter((o) => !o.deletedAt).map((o) => o.orgId));
  return { items: pending.filter((i) => live.has(i.orgId)), nextCursor: cursor };
}
