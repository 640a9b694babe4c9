import { clock } from '../shared/clock.ts';
import { ConflictError, NotFoundError, UnprocessableError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { auditBy, auditItem } from './audit.ts';
import { accountGone, isMembershipLive, openAccountCheck, type OrgAccess, type UserCaller } from './access.ts';
import { db, type Organization } from './entities.ts';
import { requireUser } from './users.ts';
import { startingPlanWrites } from '../billing/onboarding.ts';
import { closeBilling, preloadedSubscription } from '../billing/subscriptions.ts';
import { transactWrite, put, update, remove, returningOnFailure } from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';
import { orgKey } from '../hub/owners.ts';
import { forgetSnapshot, ownerEnd } from '../hub/snapshot.ts';

export interface NewOrganization {
  name: string;
  slug: string;
  orgType: 'TEAM' | 'ENTERPRISE';
  apiKeyStrategy?: 'PLATFORM' | 'BYOK' | 'HYBRID';
}

const slugTaken = () => new ConflictError('That slug is taken', [{ path: 'slug', message: 'Already taken' }]);

/** A user creates a team or enterprise organization and becomes its owner; it starts on Free with its first credits. */
export async function createOrganization(caller: UserCaller, input: NewOrganization): Promise<Organization> {
  const orgId = newId('org');
  // Named here, not stamped by the entity: the organization answered is the one stored, to the millisecond.
  const now = clock.nowIso();
  const [profile, startingPlan] = await Promise.all([requireUser(caller.userId), startingPlanWrites(orgId, now)]);
  const org = {
    orgId,
    ...input,
    apiKeyStrategy: input.apiKeyStrategy ?? ('PLATFORM' as const),
    ownerId: caller.userId,
    ownerCount: 1,
    createdBy: caller.userId,
    roles: [],
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const result = await transactWrite([
    // Its owner's account is still open (not being deleted meanwhile): a team is never owned only by a deleted account.
    openAccountCheck(caller.userId),
    put(db.unique.create({ kind: 'slug', value: input.slug, ownerId: orgId })),
    put(db.organization.create(org)),
    put(
      db.membership.create({
        orgId,
        userId: caller.userId,
        email: profile.email,
        fullName: profile.fullName,
        role: 'owner',
        assignedBy: caller.userId,
        assignedAt: now,
      }),
    ),
    put(
      db.auditEvent.create(
        auditItem({
          orgId,
          actorType: 'user',
          actorId: caller.userId,
          action: 'org.created',
          targetType: 'org',
          targetId: orgId,
        }),
      ),
    ),
    ...startingPlan,
  ]);
  if (result.reasons[0] === 'ConditionalCheckFailed') throw accountGone();
  if (result.canceled) throw slugTaken();
  return org;
}

export type OrganizationPatch = Partial<Pick<Organization, 'name' | 'slug' | 'apiKeyStrategy'>> & {
  orgType?: 'TEAM' | 'ENTERPRISE';
};

export async function updateOrganization(access: OrgAccess, patch: OrganizationPatch): Promise<Organization> {
  const { org } = access;
  if (patch.orgType && org.orgType === 'SOLO')
    throw new UnprocessableError('A personal organization stays personal; create a team instead');
  const changes = Object.fromEntries(
    Object.entries(patch).filter(([k, v]) => v !== undefined && v !== org[k as keyof Organization]),
  );
  if (!Object.keys(changes).length) return org;
  const slugChanges = typeof changes.slug === 'string';
  const result = await transactWrite([
    update(
      db.organization
        .patch({ orgId: org.orgId })
        .set(changes)
        .add({ version: 1 })
        .where(({ version, deletedAt }, { eq, notExists }) => `${eq(version, org.version ?? 1)} AND ${notExists(deletedAt)}`),
    ),
    ...(slugChanges
      ? [
          put(db.unique.create({ kind: 'slug', value: changes.slug as string, ownerId: org.orgId })),
          remove(db.unique.delete({ kind: 'slug', value: org.slug })),
        ]
      : []),
    put(
      db.auditEvent.create(
        auditItem({ ...auditBy(access), action: 'org.updated', targetType: 'org', targetId: org.orgId, details: { changes } }),
      ),
    ),
  ]);
  if (result.canceled) {
    if (slugChanges && result.reasons[1] === 'ConditionalCheckFailed') throw slugTaken();
    throw new ConflictError('The organization changed while you edited it; read it again and retry');
  }
  return (await db.organization.get({ orgId: org.orgId }).go({ consistent: true })).data!;
}

/**
 * Soft delete; the slug is released. A personal organization goes only with its user. The
 * delete is conditioned on the version read (as an edit is), so the slug released is the one
 * the organization has: a slug change that got there first makes it a 409, and a second delete
 * a 404 with no second `org.deleted`. Its billing stops with it, in the same transaction
 * (`closeBilling`): a subscription billed by Stripe is cancelled there first (Stripe failing,
 * a 502, nothing is deleted), and nothing stays due for the schedules. The subscription is
 * written under the version read even on Free, so a plan change racing the deletion (a trial, a
 * checkout paid) and the deletion cannot both commit: the second is refused. Its own provider
 * keys are withdrawn with it (`ownerEnd`): no call sends them once it is deleted, not even one
 * routed before and waiting for a retry.
 */
export async function deleteOrganization(access: OrgAccess): Promise<void> {
  const { org } = access;
  if (org.orgType === 'SOLO') throw new UnprocessableError('A personal organization is deleted with its account (DELETE /v1/me)');
  const billing = await closeBilling(await preloadedSubscription(org.orgId, access.preloaded));
  const now = new Date().toISOString();
  const result = await transactWrite([
    returningOnFailure(
      update(
        db.organization
          .patch({ orgId: org.orgId })
          .set({ deletedAt: now, ...(billing.planId ? { planId: billing.planId } : {}) })
          .add({ version: 1 })
          .where(({ version, deletedAt }, { eq, notExists }) => `${eq(version, org.version ?? 1)} AND ${notExists(deletedAt)}`),
      ),
    ),
    remove(db.unique.delete({ kind: 'slug', value: org.slug })),
    put(db.auditEvent.create(auditItem({ ...auditBy(access), action: 'org.deleted', targetType: 'org', targetId: org.orgId }))),
    ownerEnd(orgKey(org.orgId), now),
    ...billing.writes,
  ]);
  if (!result.canceled) return forgetSnapshot(orgKey(org.orgId));
  await billing.abandon();
  if (result.items[0]?.deletedAt) throw new NotFoundError('Organization not found');
  throw new ConflictError(
    billing.cancelledAtStripe
      ? 'The organization changed while you deleted it; it was not deleted, but its Stripe subscription is cancelled (it is on Free now): read it again and retry'
      : 'The organization or its subscription changed while you deleted it; nothing was deleted: read it again and retry',
  );
}

/** The organizations the user belongs to, with their role in each. */
export async function listMyOrganizations(userId: string, options: { cursor?: string; limit?: number }) {
  const page = await pageOf(db.membership.query.byUser({ userId }), {
    cursor: options.cursor,
    limit: options.limit ?? 50,
    order: 'asc',
  });
  // The same liveness as authorization: a suspended or expired membership opens nothing.
  const live = page.data.filter((m) => isMembershipLive(m));
  const orgs = live.length ? (await db.organization.get(live.map((m) => ({ orgId: m.orgId }))).go()).data : [];
  const byId = new Map(orgs.filter((o) => !o.deletedAt).map((o) => [o.orgId, o]));
  return {
    items: live.flatMap((m) => {
      const org = byId.get(m.orgId);
      return org ? [{ ...org, role: m.role }] : [];
    }),
    nextCursor: page.cursor,
  };
}
