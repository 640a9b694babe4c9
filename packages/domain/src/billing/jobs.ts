import { conditionFailed } from '../shared/dynamo.ts';
import { clock } from '../shared/clock.ts';
import { notifyOrgAdmins } from '../notifications/notify.ts';
import { conditionCheck, remove, transactWrite } from '../shared/transactions.ts';
import { billingDb, type DueKind, type Subscription, type SubscriptionDue } from './entities.ts';
import { planCatalogue } from './plans.ts';
import * as changes from './subscription-changes.ts';
import { DUE_SHARDS, MAX_CATCH_UP, commitChange, dueDates, liveSubscription } from './subscription-store.ts';

/**
 * The billing schedules. Each reads the markers of its kind that are due (a query per shard
 * of the due index, never a Scan), re-reads each subscription and, if the work is still
 * due, commits the change under the version it read. So a job run twice, or two runs
 * overlapping, apply each change once: the second finds the marker moved on (or the
 * version changed) and skips; credits are keyed by period besides. A route changing a
 * subscription with work due applies it first by the same steps (`changes.SCHEDULED`,
 * `caughtUp`), under the same rule. A deleted organization's markers are cleared unapplied.
 */
export interface JobReport {
  job: DueKind;
  at: string;
  due: number;
  applied: number;
  skipped: number;
  /** Subscriptions whose step failed: their markers stay for the next run. */
  failed: Array<{ orgId: string; error: string }>;
  /** Due markers not taken up because the run's time was nearly spent: they stay for the next run. */
  leftForNextRun: number;
}

const AT_ONCE = 8;

const isDue = (sub: Subscription, kind: DueKind, at: string) => {
  const due = dueDates(sub)[kind];
  return due !== undefined && due <= at;
};

async function dueMarkers(kind: DueKind, at: string): Promise<SubscriptionDue[]> {
  const shards = await Promise.all(
    Array.from({ length: DUE_SHARDS }, (_, shard) =>
      billingDb.due.query.byDue({ kind, shard }).lte({ dueAt: at }).go({ pages: 'all' }),
    ),
  );
  return shards.flatMap((s) => s.data);
}

const markerAsListed = (marker: SubscriptionDue) =>
  billingDb.due.delete({ orgId: marker.orgId, kind: marker.kind }).where(({ dueAt }, { eq }) => eq(dueAt, marker.dueAt));

/** Removes a deleted organization's marker, unless it was moved meanwhile. */
async function clearMarker(marker: SubscriptionDue) {
  await markerAsListed(marker)
    .go()
    .catch((error: unknown) => {
      if (!conditionFailed(error)) throw error;
    });
}

/**
 * Removes a marker that `read` (the subscription as the job read it) says is done with, in one
 * transaction with a check that the subscription is still at that version. A change committed
 * since may have put the marker back with the same date (a cancellation taken back): its marker
 * stays, for the next run to find. A refused transaction is that change's doing: nothing to do.
 */
async function clearMarkerOf(marker: SubscriptionDue, read: Subscription) {
  await transactWrite([
    remove(markerAsListed(marker)),
    conditionCheck(billingDb.subscription, { orgId: read.orgId }, ({ version }, { eq, notExists }) =>
      read.version === undefined ? notExists(version) : eq(version, read.version),
    ),
  ]);
}

async function remindTrialEnding(sub: Subscription, now: Date) {
  const days = Math.max(0, Math.ceil((Date.parse(sub.trialEnd!) - now.getTime()) / 86_400_000));
  await notifyOrgAdmins(sub.orgId, {
    type: 'trial-ending',
    title: 'Your trial ends soon',
    message: `The trial of the ${sub.planId} plan ends in ${days} day${days === 1 ? '' : 's'} (${sub.trialEnd}). Subscribe through checkout to keep it; otherwise the organization returns to Free.`,
    metadata: { planId: sub.planId, trialEnd: sub.trialEnd },
    dedupeKey: `trial-ending:${sub.orgId}:${sub.trialEnd}`,
  });
}

/** One subscription's due work; true when something was applied. */
async function applyDue(kind: DueKind, marker: SubscriptionDue, ctx: changes.Context): Promise<boolean> {
  const at = ctx.now.toISOString();
  const live = await liveSubscription(marker.orgId);
  if (!live) {
    await clearMarker(marker);
    return false;
  }
  let sub = live;
  if (!isDue(sub, kind, at)) {
    if (dueDates(sub)[kind] === undefined) await clearMarkerOf(marker, sub);
    return false;
  }
  if (kind === 'trial-reminder') {
    await remindTrialEnding(sub, ctx.now);
    await clearMarkerOf(marker, sub);
    return true;
  }
  for (let step = 0; step < MAX_CATCH_UP && isDue(sub, kind, at); step++) {
    const committed = await commitChange({ prev: sub, ...changes.SCHEDULED[kind](sub, ctx) });
    if (!committed.ok) return step > 0;
    sub = committed.next;
  }
  return true;
}

/**
 * Runs the job of one kind for everything due at `now`. Once `outOfTime` says so, it takes up no
 * more subscriptions and finishes those under way (each step is one transaction), so a run too
 * big for the function's time still returns its report; the markers left stay for the next run.
 */
export async function runSubscriptionJob(
  kind: DueKind,
  now = clock.now(),
  outOfTime: () => boolean = () => false,
): Promise<JobReport> {
  const at = now.toISOString();
  const [markers, plans] = await Promise.all([dueMarkers(kind, at), planCatalogue()]);
  const report: JobReport = { job: kind, at, due: markers.length, applied: 0, skipped: 0, failed: [], leftForNextRun: 0 };
  let next = 0;
  const worker = async () => {
    while (next < markers.length && !outOfTime()) {
      const marker = markers[next++]!;
      try {
        if (await applyDue(kind, marker, { plans, now })) report.applied++;
        else report.skipped++;
      } catch (error) {
        // One subscription's failure must not stop the others.
        report.failed.push({ orgId: marker.orgId, error: String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, markers.length) }, worker));
  report.leftForNextRun = markers.length - next;
  return report;
}
