import type { Subscription } from '../billing/entities.ts';
import { closeBilling, subscriptionRead, type BillingClosure } from '../billing/subscriptions.ts';
import { ConflictError } from '../shared/errors.ts';
import { conditionFailed } from '../shared/dynamo.ts';
import { put, remove, transactGet, transactWrite, update, type WriteItem } from '../shared/transactions.ts';
import { identityProvider } from './cognito.ts';
import { accountGone } from './access.ts';
import { auditItem } from './audit.ts';
import { db, type Membership, type Organization } from './entities.ts';
import { asRead, memberAndHeir, organizationChange } from './members.ts';
import { personalOrgId } from './users.ts';
import { orgKey, userKey } from '../hub/owners.ts';
import { forgetSnapshot, ownerEnd } from '../hub/snapshot.ts';

/** DynamoDB's bound on the items of one transaction. */
const MAX_TRANSACTION_ITEMS = 100;

/** Packs groups of writes (each to stay together) into as few transactions as fit; the first group leads the first. */
function inTransactions(groups: WriteItem[][]): WriteItem[][] {
  const transactions: WriteItem[][] = [];
  for (const group of groups) {
    const last = transactions.at(-1);
    if (last && last.length + group.length <= MAX_TRANSACTION_ITEMS) last.push(...group);
    else transactions.push([...group]);
  }
  return transactions;
}

/**
 * Soft-deletes the account: the profile is marked deleted, the personal organization goes
 * with it as a deleted team does (its billing closed, its slug released, `org.deleted`
 * audited: `personalOrganizationEnd`), memberships end, every session ends (the profile's
 * write says so for all of them at once: `isSessionLive`) and Cognito stops accepting the
 * user and their refresh tokens. A user who is the last owner of a team must hand it over first.
 *
 * An organization always keeps a live owner, even when someone makes this user an owner
 * meanwhile (a promotion, a transfer, an accepted invitation). So the account is first
 * closed (`isActive: false`): every write that makes someone a member or an owner checks, in
 * its own transaction, that their account is open (`openAccountCheck`), so none lands after
 * this. The memberships read after it are then all there are, and each ends only as it was
 * read, moving the owner counts that read decided. A refusal on the way (the last owner of a
 * team, or a membership or organization changed meanwhile) reopens the account: a 409 that
 * leaves it in place. The profile's `deletedAt` is written last, in the same transaction as
 * the last memberships, so a failure before it leaves an account that a retry deletes.
 * The personal organization's Stripe subscription, if any, is cancelled once nothing else is
 * left to refuse, before anything is written: Stripe failing is a 502 that deletes nothing.
 * The user's own provider keys and their personal organization's go with the profile's write
 * (`ownerEnd`): no call sends them once the account is deleted, not even one routed before.
 */
export async function deleteAccount(userId: string, username: string): Promise<void> {
  // The usual refusal (the last owner of a team) is answered before anything is written.
  await membershipsToEnd(userId);
  // Closing refuses a missing or deleted profile (404), so it is not read first; only then is it read, in case it
  // is a deletion whose disable at Cognito failed (a 429 that asked for this retry): the retry finishes it.
  const closed = await closeAccount(userId);
  if (!closed) {
    if (await finishPendingDisable(userId, username)) return;
    throw accountGone();
  }
  const { email } = closed;
  try {
    const [departures, personal] = await Promise.all([departuresOf(userId), personalOrganizationOf(userId)]);
    await endAccount(userId, departures, await personalOrganizationEnd(userId, personal));
  } catch (error) {
    await reopenAccount(userId);
    throw error;
  }
  await disableSignIn(userId, username || email);
}

/**
 * Stops the deleted account at Cognito (no sign-in, no refresh token: `disableEverywhere`), then records that it
 * did (`signInDisabledAt`). A failure between the profile's deletion and this record (Cognito throttling, say)
 * leaves the profile deleted and the record missing, which a retry of the deletion finds and finishes.
 */
async function disableSignIn(userId: string, username: string) {
  await identityProvider.disableEverywhere(username);
  await db.user.patch({ userId }).set({ signInDisabledAt: new Date().toISOString() }).go();
}

/** Finishes a deletion whose disable at Cognito did not happen; false when there is none to finish (a 404 then). */
async function finishPendingDisable(userId: string, username: string): Promise<boolean> {
  const { data } = await db.user.get({ userId }).go({ consistent: true });
  if (!data?.deletedAt || data.signInDisabledAt) return false;
  await disableSignIn(userId, username || data.email);
  return true;
}

const lastOwnerOf = (orgs: Organization[]) =>
  new ConflictError(`Transfer ownership of ${orgs.map((o) => o.name).join(', ')} before deleting your account`);

/**
 * The user's live memberships, and the live teams among them that they own (whose owner count
 * their departure moves). The last owner of a team is refused (409): each team they co-own keeps
 * at least one other owner.
 */
async function membershipsToEnd(userId: string): Promise<{ live: Membership[]; owned: Map<string, Organization> }> {
  const { data: memberships } = await db.membership.query.byUser({ userId }).go({ pages: 'all' });
  const live = memberships.filter((m) => m.isActive !== false);
  const ownerships = live.filter((m) => m.role === 'owner' && m.orgId !== personalOrgId(userId));
  const { data: ownedOrgs } = ownerships.length
    ? await db.organization.get(ownerships.map((m) => ({ orgId: m.orgId }))).go({ consistent: true })
    : { data: [] };
  const liveOwned = ownedOrgs.filter((o) => !o.deletedAt);
  const blocking = liveOwned.filter((o) => (o.ownerCount ?? 1) <= 1);
  if (blocking.length) throw lastOwnerOf(blocking);
  return { live, owned: new Map(liveOwned.map((o) => [o.orgId, o])) };
}

/**
 * The writes that end the user's live memberships, each under the condition that it is still
 * as read (role, active): a membership changed since (made owner, say) fails its transaction
 * instead of ending on a stale decision. An owner who leaves no longer counts, and a team whose
 * recorded owner (`ownerId`) they are passes the record to another live owner, read here (one
 * query per such team), as a member who leaves does (`organizationChange`). Each departure from
 * a team is audited as a member's leaving is (`member.left`, with the reason), in its transaction.
 */
async function departuresOf(userId: string): Promise<WriteItem[][]> {
  const { live, owned } = await membershipsToEnd(userId);
  const recorded = [...owned.values()].filter((o) => o.ownerId === userId);
  const heirs = new Map<string, Membership | undefined>();
  for (const org of recorded) heirs.set(org.orgId, (await memberAndHeir(org.orgId, userId)).heir);
  const heirless = recorded.filter((o) => !heirs.get(o.orgId));
  if (heirless.length) throw lastOwnerOf(heirless);
  return live.map((m) => {
    const heir = heirs.get(m.orgId);
    const team = m.orgId !== personalOrgId(userId);
    return [
      update(db.membership.patch({ orgId: m.orgId, userId }).set({ isActive: false }).where(asRead(m))),
      ...(owned.has(m.orgId) ? organizationChange(m.orgId, { userId, delta: -1, ...(heir ? { heir } : {}) }) : []),
      ...(team
        ? [
            put(
              db.auditEvent.create(
                auditItem({
                  orgId: m.orgId,
                  actorType: 'user',
                  actorId: userId,
                  action: 'member.left',
                  targetType: 'user',
                  targetId: userId,
                  details: { role: m.role, reason: 'account-deleted' },
                }),
              ),
            ),
          ]
        : []),
    ];
  });
}

/**
 * From here on, no write makes this user a member or an owner (see `openAccountCheck`). Answers the profile as it
 * was, or null when there is none to close (missing or deleted).
 */
async function closeAccount(userId: string): Promise<{ email: string } | null> {
  try {
    const { data } = await db.user
      .patch({ userId })
      .set({ isActive: false })
      .where(({ deletedAt }, { notExists }) => notExists(deletedAt))
      .go({ response: 'all_old' });
    return { email: data.email ?? '' };
  } catch (error) {
    if (conditionFailed(error)) return null;
    throw error;
  }
}

/** Undoes `closeAccount` after a refusal; an account deleted meanwhile (another request) stays deleted. */
async function reopenAccount(userId: string) {
  try {
    await db.user
      .patch({ userId })
      .set({ isActive: true })
      .where(({ deletedAt, isActive }, { eq, notExists }) => `${notExists(deletedAt)} AND ${eq(isActive, false)}`)
      .go();
  } catch (error) {
    if (!conditionFailed(error)) throw error;
  }
}

/** The personal organization and its subscription, read together (one request). */
async function personalOrganizationOf(userId: string) {
  const orgId = personalOrgId(userId);
  const [org, sub] = await transactGet<[Organization, Subscription]>([
    { op: db.organization.get({ orgId }), entity: db.organization },
    subscriptionRead(orgId),
  ]);
  return { org, sub };
}

/** How the personal organization ends with the account: its writes, and its billing's closure to undo on a refusal. */
interface PersonalOrganizationEnd {
  writes: WriteItem[];
  billing?: BillingClosure;
}

/**
 * The personal organization is deleted as `deleteOrganization` deletes a team: under the version
 * read (so the slug released is the one it has), audited, and its billing closed in the same
 * transaction (`closeBilling`: a Stripe subscription cancelled there first, the subscription
 * ended and written under the version read, nothing left due). A user who pays for their
 * personal organization is not charged on after deleting their account.
 */
async function personalOrganizationEnd(
  userId: string,
  { org, sub }: { org: Organization | null; sub: Subscription | null },
): Promise<PersonalOrganizationEnd> {
  // Gone already (nothing deletes it but this): nothing left to end.
  if (!org || org.deletedAt) return { writes: [] };
  const billing = sub ? await closeBilling(sub) : undefined;
  const now = new Date().toISOString();
  return {
    billing,
    writes: [
      update(
        db.organization
          .patch({ orgId: org.orgId })
          .set({ deletedAt: now, ...(billing?.planId ? { planId: billing.planId } : {}) })
          .add({ version: 1 })
          .where(({ version, deletedAt }, { eq, notExists }) => `${eq(version, org.version ?? 1)} AND ${notExists(deletedAt)}`),
      ),
      remove(db.unique.delete({ kind: 'slug', value: org.slug })),
      ownerEnd(orgKey(org.orgId), now),
      put(
        db.auditEvent.create(
          auditItem({
            orgId: org.orgId,
            actorType: 'user',
            actorId: userId,
            action: 'org.deleted',
            targetType: 'org',
            targetId: org.orgId,
            details: { reason: 'account-deleted' },
          }),
        ),
      ),
      ...(billing?.writes ?? []),
    ],
  };
}

/**
 * Ends the memberships and marks the profile and the personal organization deleted. The
 * profile's write requires the account still closed: a concurrent deletion that was refused
 * and reopened it lets grants in again, so this one is refused too rather than miss them.
 * Refused on the way after the personal organization's Stripe subscription was cancelled, its
 * subscription ends as Stripe's did (`abandon`): the account stays, its organization on Free.
 */
async function endAccount(userId: string, departures: WriteItem[][], personal: PersonalOrganizationEnd) {
  const now = new Date().toISOString();
  const account = [
    update(
      db.user
        .patch({ userId })
        .set({ deletedAt: now, isActive: false, sessionsValidAfter: now })
        .where(({ deletedAt, isActive }, { eq, notExists }) => `${notExists(deletedAt)} AND ${eq(isActive, false)}`),
    ),
    ownerEnd(userKey(userId), now),
    ...personal.writes,
  ];
  // Past one transaction's items, the memberships end in earlier ones and the account goes last:
  // a refusal on the way leaves the account in place, and a retry ends only what is still live.
  const transactions = inTransactions([account, ...departures]);
  for (const items of [...transactions.slice(1), transactions[0]!]) {
    const result = await transactWrite(items);
    if (!result.canceled) continue;
    await personal.billing?.abandon();
    throw new ConflictError(
      personal.billing?.cancelledAtStripe
        ? 'An organization of yours or your membership in it changed meanwhile; your account was not deleted, but the Stripe subscription of your personal organization is cancelled (it is on Free now): retry'
        : 'An organization of yours or your membership in it changed meanwhile; your account was not deleted: retry (transfer ownership first if you are its last owner)',
    );
  }
  forgetSnapshot(userKey(userId));
  forgetSnapshot(orgKey(personalOrgId(userId)));
}
