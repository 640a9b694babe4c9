import { shardOf } from '../shared/ids.ts';
import { clock } from '../shared/clock.ts';
import { conditionFailed } from '../shared/dynamo.ts';
import { db, type Organization } from '../identity/entities.ts';
import { ConflictError, NotFoundError } from '../shared/errors.ts';
import { put, remove, transactGet, transactWrite, update, type WriteItem } from '../shared/transactions.ts';
import { DUE_KINDS, billingDb, ledgerDb, type DueKind, type Plan, type Subscription } from './entities.ts';
import { effectivePlanId } from './lifecycle.ts';
import { creditWrites, periodGrantKey, type LowBalanceMark } from './ledger.ts';

/**
 * Reading and writing a subscription, the one way every change goes: the new item is put
 * under the condition that its version is still the one read (optimistic concurrency), in
 * one transaction with the organization's effective plan (`org.planId`, which limits read),
 * the markers of what falls due next (read by the schedules), the credits the change grants,
 * and whatever the caller records with it (a payment, a provider event).
 */
export const GRACE_DAYS = 7;
export const SUSPENSION_DAYS = 30;
export const TRIAL_REMINDER_DAYS = 3;
export const DUE_SHARDS = 8;
/** A subscription many periods behind (the jobs were off) catches up this many steps at a time. */
export const MAX_CATCH_UP = 24;
/** Share of a plan's monthly credits below which the organization is warned. */
export const LOW_BALANCE_SHARE = 0.1;

const DAY_MS = 86_400_000;
export const plusDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString();
/** Periods start on a whole second: Stripe counts in seconds, so its periods and ours compare equal. */
export const wholeSecond = (iso: string) => new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString();

/**
 * `months` calendar months after `iso`, at its time of day, on the day of the month of `anchor`
 * (by default `iso`'s own), or on the month's last day when that month is shorter: how Stripe
 * moves a billing cycle, so that a cycle anchored on the 31st ends its periods on Feb 28, then
 * on Mar 31 (a date's own arithmetic would give Mar 3, then Apr 3).
 */
export const addMonths = (iso: string, months: number, anchor = iso) => {
  const date = new Date(iso);
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth() + months];
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(new Date(anchor).getUTCDate(), lastDay);
  return new Date(
    Date.UTC(year, month, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()),
  ).toISOString();
};

/** The end of the monthly period that starts at `start`, in the subscription's cycle. */
export const periodEndAfter = (sub: Pick<Subscription, 'billingAnchor'>, start: string) =>
  addMonths(start, 1, sub.billingAnchor ?? start);

export async function getSubscription(orgId: string): Promise<Subscription> {
  const { data } = await billingDb.subscription.get({ orgId }).go({ consistent: true });
  return found(data);
}

const found = (sub: Subscription | null | undefined): Subscription => {
  if (!sub) throw new NotFoundError('This organization has no subscription');
  return sub;
};

/**
 * The subscription and its organization, in one consistent read. A deleted organization's
 * subscription is done with (undefined): no period, grant or notification falls due for it any more.
 */
export async function liveSubscription(orgId: string): Promise<Subscription | undefined> {
  const [sub, org] = await transactGet<[Subscription, Organization]>([
    { op: billingDb.subscription.get({ orgId }), entity: billingDb.subscription },
    { op: db.organization.get({ orgId }), entity: db.organization },
  ]);
  if (!org || org.deletedAt) return undefined;
  return found(sub);
}

/** The subscription's read, for a route to make with its authorization (`httpHandler`'s `preload`). */
export const subscriptionRead = (orgId: string) => ({
  op: billingDb.subscription.get({ orgId }),
  entity: billingDb.subscription,
});

/** The subscription read with the authorization (`subscriptionRead`), or read now. */
export const preloadedSubscription = (orgId: string, preloaded?: readonly unknown[]): Promise<Subscription> =>
  preloaded?.length === 1 ? Promise.resolve(found(preloaded[0] as Subscription | null)) : getSubscription(orgId);

/** When each kind of scheduled work falls due for this subscription (absent: nothing of that kind). */
export function dueDates(sub: Subscription): Partial<Record<DueKind, string>> {
  const due: Partial<Record<DueKind, string>> = {};
  if (sub.status === 'Trial') {
    const trialEnd = sub.trialEnd ?? sub.currentPeriodEnd;
    if (sub.cancelAtPeriodEnd) due.cancellation = sub.currentPeriodEnd;
    else {
      due['trial-end'] = trialEnd;
      due['trial-reminder'] = plusDays(trialEnd, -TRIAL_REMINDER_DAYS);
    }
  } else if ((sub.status === 'Active' || sub.status === 'Suspended') && sub.cancelAtPeriodEnd)
    // Suspended too: a cancellation asked for during the grace period still ends the subscription.
    due.cancellation = sub.currentPeriodEnd;
  else due.renewal = sub.currentPeriodEnd;
  if (sub.status === 'Active' && sub.graceUntil) due['grace-end'] = sub.graceUntil;
  if (sub.status === 'Suspended')
    due.expiry = plusDays(sub.suspendedAt ?? sub.updatedAt ?? sub.currentPeriodStart, SUSPENSION_DAYS);
  return due;
}

/** Puts or removes the markers whose date changed (all of them for a subscription never written this way). */
export function dueWrites(prev: Subscription | undefined, next: Subscription): WriteItem[] {
  const before = prev && prev.version !== undefined ? dueDates(prev) : undefined;
  const after = dueDates(next);
  const shard = shardOf(next.orgId, DUE_SHARDS);
  return DUE_KINDS.filter((kind) => !before || before[kind] !== after[kind]).map((kind) =>
    after[kind]
      ? put(billingDb.due.put({ orgId: next.orgId, kind, dueAt: after[kind]!, shard }))
      : remove(billingDb.due.delete({ orgId: next.orgId, kind })),
  );
}

/**
 * What closes a deleted organization's billing, written in the deletion's transaction: its
 * subscription as the deletion leaves it (`next`: ended, or as it was when nothing ends), put
 * under the version read (`prev`, the deletion's claim when `claimed`) and, unclaimed, under no
 * live claim, its version moved on even when nothing else changes. So of the deletion and a change
 * racing it (a trial started, a checkout paid, a renewal), whichever commits second fails its
 * condition: nothing lives on, on a deleted organization. None of its markers is left, so no
 * schedule finds it again. No grant: nothing is credited to an organization that is gone. The
 * organization item is the deletion's to write.
 */
export function closingWrites(prev: Subscription, next: Subscription, options: { claimed?: boolean } = {}): WriteItem[] {
  const markers = DUE_KINDS.map((kind) => remove(billingDb.due.delete({ orgId: prev.orgId, kind })));
  const last = { ...next, version: (prev.version ?? 0) + 1, claimedUntil: undefined, updatedAt: clock.nowIso() };
  return [subscriptionWrite(prev, last, !!options.claimed), ...markers];
}

/** Credits a change grants, keyed so that each applies once whatever retries happen. */
export interface Grant {
  key: string;
  type: 'grant' | 'purchase';
  amount: number;
  description: string;
  invoiceId?: string;
  metadata?: Record<string, unknown>;
  /** A period's grant also sets that period's low-balance warning. */
  mark?: LowBalanceMark;
  /** A plan's grant or proration: the monthly credits the period is credited at once it applies (`periodMonthlyCredits`). */
  monthly?: number;
}

/** The monthly grant of `plan` for the period starting at `periodStart`. */
export function periodGrant(orgId: string, plan: Plan, periodStart: string, amount = plan.monthlyCredits): Grant {
  return {
    key: periodGrantKey(orgId, plan.planId, periodStart),
    type: 'grant',
    amount,
    description: `${plan.name} plan: monthly credits`,
    mark: lowBalanceMark(plan, periodStart),
    monthly: plan.monthlyCredits,
  };
}

/** The low-balance warning of `plan` in the period starting at `periodStart`. */
export const lowBalanceMark = (plan: Plan, periodStart: string): LowBalanceMark => ({
  lowBalanceThreshold: Math.floor(plan.monthlyCredits * LOW_BALANCE_SHARE),
  lowBalancePeriod: periodStart,
});

/**
 * A ledger row per grant, then one update of the account (a transaction may touch an item
 * once): the total added, and the latest period's low-balance warning.
 */
export function grantWrites(orgId: string, grants: Grant[]): WriteItem[] {
  const credited = grants.filter((g) => g.amount > 0);
  const rows = credited.map((g) =>
    creditWrites(orgId, g.key, g.type, g.amount, { description: g.description, invoiceId: g.invoiceId, metadata: g.metadata }),
  );
  const total = credited.reduce((sum, g) => sum + g.amount, 0);
  const mark = [...grants].reverse().find((g) => g.mark)?.mark;
  if (!total && !mark) return [];
  const account = ledgerDb.account.update({ orgId }).add({ available: total });
  return [...rows.map((r) => r.row.write), update(mark ? account.set(mark) : account)];
}

/** A write and what it stands for, so a failed condition can be told apart from the others. */
export interface Tagged {
  /** `guard`: a uniqueness item whose failure has its own answer. */
  role: 'subscription' | 'payment' | 'event' | 'guard' | 'other';
  write: WriteItem;
}

export interface Change {
  /** Absent for a subscription created by this change. */
  prev?: Subscription;
  /** `prev` is the subscription as this change claimed it (`claimChange`): the commit releases the claim. */
  claimed?: boolean;
  next: Subscription;
  grants?: Grant[];
  writes?: Tagged[];
}

export type CommitOutcome = { ok: true; next: Subscription } | { ok: false; failed: Tagged['role'] };

/**
 * The put of a changed subscription: under the version read, and (unless this change holds
 * it) under no live claim, so nothing commits between a route's claim and its commit.
 */
function subscriptionWrite(prev: Subscription | undefined, next: Subscription, claimed: boolean): WriteItem {
  const expected = prev?.version;
  const op = billingDb.subscription.put(next);
  if (!prev) return put(op.where(({ orgId }, { notExists }) => notExists(orgId)));
  const now = clock.nowIso();
  return put(
    op.where(({ version, claimedUntil }, { eq, notExists, lt }) => {
      const sameVersion = expected === undefined ? notExists(version) : eq(version, expected);
      return claimed ? sameVersion : `${sameVersion} AND (${notExists(claimedUntil)} OR ${lt(claimedUntil, now)})`;
    }),
  );
}

/** How long a claim holds at most: past it (the function died mid-change), other changes go ahead. */
export const CLAIM_MS = 60_000;
const CHANGED_MEANWHILE = 'The subscription changed meanwhile; read it again and retry';

/**
 * Claims the subscription for a change that calls the payment provider before it commits
 * here: one conditional write, under the version read and no live claim, that moves the
 * version on and marks it claimed. Racing changes: the loser gets 409 here, before it has
 * touched the provider. The claim ends with the change's commit (`claimed: true`) or with
 * `releaseClaim` when the provider refused; a claim left behind expires after `CLAIM_MS`.
 */
export async function claimChange(sub: Subscription): Promise<Subscription> {
  const now = clock.now();
  const claimedUntil = new Date(now.getTime() + CLAIM_MS).toISOString();
  const version = (sub.version ?? 0) + 1;
  const updatedAt = now.toISOString();
  const expected = sub.version;
  try {
    await billingDb.subscription
      .patch({ orgId: sub.orgId })
      .set({ claimedUntil, version, updatedAt })
      .where(({ version: current, claimedUntil: claim }, { eq, notExists, lt }) => {
        const sameVersion = expected === undefined ? notExists(current) : eq(current, expected);
        return `${sameVersion} AND (${notExists(claim)} OR ${lt(claim, now.toISOString())})`;
      })
      .go({ response: 'none' });
  } catch (error) {
    if (conditionFailed(error)) throw new ConflictError(CHANGED_MEANWHILE);
    throw error;
  }
  return { ...sub, version, claimedUntil, updatedAt };
}

/** Gives a claim back unused (the provider refused the change); nothing if it was lost meanwhile. */
export async function releaseClaim(claimed: Subscription): Promise<void> {
  await billingDb.subscription
    .patch({ orgId: claimed.orgId })
    .remove(['claimedUntil'])
    .where(
      ({ version, claimedUntil }, { eq }) => `${eq(version, claimed.version)} AND ${eq(claimedUntil, claimed.claimedUntil!)}`,
    )
    .go({ response: 'none' })
    .catch((error: unknown) => {
      if (!conditionFailed(error)) throw error;
    });
}

/**
 * Commits a change in one transaction. A grant already credited in the subscription's period
 * (the same proration or period grant applied by an earlier change: the subscription lists
 * their keys, and the version condition orders every change after the one it read) is left
 * out before writing, so a change is one request and credits are never granted twice. The
 * ledger row keeps its own condition: should a key be used all the same (a subscription
 * last written before it listed its grants), that grant is dropped, listed, and the rest
 * retried. Any other failed condition is answered, not retried: `subscription` means
 * someone changed it meanwhile.
 */
export async function commitChange(change: Change): Promise<CommitOutcome> {
  const version = (change.prev?.version ?? 0) + 1;
  // Named here, not stamped by the entity: the subscription answered is the one stored, to the millisecond.
  const updatedAt = clock.nowIso();
  const prevPlan = change.prev ? effectivePlanId(change.prev) : undefined;
  const nextPlan = effectivePlanId(change.next);
  const samePeriod = change.prev?.currentPeriodStart === change.next.currentPeriodStart;
  let listed = samePeriod ? (change.prev?.periodGrants ?? []) : [];
  let grants = (change.grants ?? []).filter((g) => !listed.includes(g.key));
  const creditedAt = samePeriod ? change.prev?.periodMonthlyCredits : undefined;
  for (;;) {
    const credited = grants.filter((g) => g.amount > 0);
    const monthly = grants.map((g) => g.monthly).filter((m): m is number => m !== undefined);
    const next: Subscription = {
      ...change.next,
      version,
      updatedAt,
      periodGrants: [...listed, ...credited.map((g) => g.key)],
      // Raised by the grants that apply here, never by one left out as credited already.
      periodMonthlyCredits: monthly.length ? Math.max(creditedAt ?? 0, ...monthly) : creditedAt,
      // What belongs to a plan goes with it: a contract, or a price, lasts while the subscription is on its plan.
      contractPlanId: ofPlan(change.next.contractPlanId, change.next.planId),
      price: ofPlan(change.next.price, change.next.planId),
      pendingPrice: ofPlan(change.next.pendingPrice, change.next.pendingPlanId),
      // A commit ends its own claim; any other commits only where no claim is live, and clears an expired one.
      claimedUntil: undefined,
    };
    const tagged: Tagged[] = [
      { role: 'subscription', write: subscriptionWrite(change.prev, next, !!change.claimed) },
      ...(prevPlan !== nextPlan
        ? [{ role: 'other' as const, write: update(db.organization.patch({ orgId: next.orgId }).set({ planId: nextPlan })) }]
        : []),
      ...dueWrites(change.prev, next).map((write) => ({ role: 'other' as const, write })),
      ...(change.writes ?? []),
    ];
    const grantStart = tagged.length;
    tagged.push(...grantWrites(next.orgId, grants).map((write) => ({ role: 'other' as const, write })));
    const outcome = await transactWrite(tagged.map((t) => t.write));
    if (!outcome.canceled) return { ok: true, next };
    const failed = outcome.reasons.map((reason, i) => (reason === 'ConditionalCheckFailed' ? i : -1)).filter((i) => i >= 0);
    const usedGrants = new Set(failed.filter((i) => i >= grantStart).map((i) => credited[i - grantStart]?.key));
    const other = failed.find((i) => i < grantStart);
    if (other !== undefined) return { ok: false, failed: tagged[other]!.role };
    if (!usedGrants.size || usedGrants.has(undefined)) throw new ConflictError('The subscription could not be changed; retry');
    grants = grants.filter((g) => !usedGrants.has(g.key));
    // Listed from now on, so that the next change leaves them out at once.
    listed = [...listed, ...(usedGrants as Set<string>)];
  }
}

/** `value` if it belongs to `planId` (names it, or is its id), else nothing. */
function ofPlan<T extends string | { planId: string }>(value: T | undefined, planId: string | undefined): T | undefined {
  if (value === undefined || planId === undefined) return undefined;
  return (typeof value === 'string' ? value : value.planId) === planId ? value : undefined;
}

/** Commits a change made on a request: a concurrent change is a 409 the caller may retry. */
export async function commitOrConflict(change: Change): Promise<Subscription> {
  const outcome = await commitChange(change);
  if (!outcome.ok)
    throw new ConflictError(
      outcome.failed === 'subscription' ? CHANGED_MEANWHILE : 'This change conflicts with another one; retry',
    );
  return outcome.next;
}
