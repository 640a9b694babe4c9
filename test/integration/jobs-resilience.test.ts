import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { billingDb, ledgerDb } from '@platform/domain/billing/entities';
import { credit, getBalance, getReservation, reserve, RESERVATION_SHARDS } from '@platform/domain/billing/ledger';
import { getSubscription } from '@platform/domain/billing/subscription-store';
import { dynamo } from '@platform/domain/shared/dynamo';
import { newId, shardOf } from '@platform/domain/shared/ids';
import { JOB_STOP_MARGIN_MS } from '@platform/http/job';
import { logger } from '@platform/http/observability';
import { localLambdaContext } from '../../packages/local/src/lambda-context.ts';
import { newBillingOrg } from '../helpers/billing.ts';

/*
 * The scheduled jobs as Lambda runs them: each handler driven in-process with a Lambda context,
 * against the suite's local cloud. Other files' jobs and data share the table, so every
 * assertion is about this file's organizations, or about counts of the run's own report.
 */

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

type Handler<R> = (event: unknown, context: Context) => Promise<R>;
const handlerOf = async <R>(job: string) => ((await import(`../../functions/jobs/${job}.ts`)) as { handler: Handler<R> }).handler;

interface SubscriptionReport {
  due: number;
  applied: number;
  skipped: number;
  failed: Array<{ orgId: string; error: string }>;
  leftForNextRun: number;
}
interface SweepReport {
  closed: number;
  failed: Array<{ orgId: string; reservationId: string; error: string }>;
  leftForNextRun: number;
}

/** A context with time for the whole run (the jobs' 5 minutes). */
const withTime = (name: string) => localLambdaContext(`job-${name}`, 'us-east-1', 300_000);
/** A context already inside the jobs' margin: the run must take up nothing. */
const nearlySpent = (name: string) => localLambdaContext(`job-${name}`, 'us-east-1', JOB_STOP_MARGIN_MS - 10_000);
/** A context whose time runs out after `asks` looks at it: a run cut short halfway, whatever the machine's speed. */
function runningOut(name: string, asks: number): Context {
  let asked = 0;
  return { ...withTime(name), getRemainingTimeInMillis: () => (asked++ < asks ? 300_000 : JOB_STOP_MARGIN_MS - 1) };
}

const grants = async (orgId: string) =>
  (await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' })).data.filter((r) => r.type === 'grant').length;

/** An id for a hold that lands in `shard` of the sweep index. */
function holdIdIn(shard: number) {
  let id = '';
  do id = `jobres-${newId('res')}`;
  while (shardOf(id, RESERVATION_SHARDS) !== shard);
  return id;
}

/** An organization with 100 credits and an already expired hold of 10 under `reservationId`. */
async function expiredHold(reservationId: string) {
  const orgId = newId('org');
  await credit(orgId, `jobres-grant-${orgId}`, 'grant', 100);
  await reserve(orgId, reservationId, 10, { holdMinutes: -1 });
  return { orgId, reservationId };
}

const originalSend = dynamo().send;
afterEach(() => {
  dynamo().send = originalSend;
  vi.restoreAllMocks();
});

/** DynamoDB refuses every transaction that closes the hold `reservationId` (throttled), until the test ends. */
function throttleTransactionsOf(reservationId: string) {
  const client = dynamo();
  const previous = client.send;
  client.send = (async (command: { constructor: { name: string }; input: unknown }, options?: never) => {
    if (command.constructor.name === 'TransactWriteCommand' && JSON.stringify(command.input).includes(reservationId)) {
      const error = new Error('Throughput exceeds the current capacity of your table or index');
      error.name = 'ProvisionedThroughputExceededException';
      throw error;
    }
    return previous.call(client, command as never, options);
  }) as never;
}

describe('expired-holds job', () => {
  it('closes every other hold when one fails to close, and reports that one as an error, run after run', async () => {
    // The failing hold is the oldest of the first shard; another follows it there, and one sits in the last shard.
    const stuck = await expiredHold(holdIdIn(0));
    const behind = await expiredHold(holdIdIn(0));
    const last = await expiredHold(holdIdIn(RESERVATION_SHARDS - 1));
    throttleTransactionsOf(stuck.reservationId);
    const errors = vi.spyOn(logger, 'error');
    const handler = await handlerOf<SweepReport>('expired-holds');

    for (let run = 0; run < 2; run++) {
      const report = await handler({}, withTime('expired-holds'));
      const mine = report.failed.filter((f) => f.orgId === stuck.orgId);
      expect(mine).toEqual([{ ...stuck, error: expect.stringContaining('ProvisionedThroughputExceededException') }]);
      expect(errors).toHaveBeenLastCalledWith(
        'Job finished with failures',
        expect.objectContaining({
          job: 'expired-holds',
          report: expect.objectContaining({ failed: expect.arrayContaining(mine) }),
        }),
      );
    }
    for (const hold of [behind, last]) {
      expect((await getReservation(hold.orgId, hold.reservationId)).status).toBe('released');
      expect(await getBalance(hold.orgId)).toMatchObject({ available: 100, reserved: 0 });
    }
    expect((await getReservation(stuck.orgId, stuck.reservationId)).status).toBe('held');
    expect(await getBalance(stuck.orgId)).toMatchObject({ available: 90, reserved: 10 });
  });

  it('takes up no hold when less than the margin is left of its time, and says how many it left', async () => {
    await expiredHold(holdIdIn(3));
    const started = Date.now();
    const report = await (await handlerOf<SweepReport>('expired-holds'))({}, nearlySpent('expired-holds'));
    expect(report).toMatchObject({ closed: 0, failed: [] });
    expect(report.leftForNextRun).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(JOB_STOP_MARGIN_MS - 10_000);
  });
});

describe('subscription jobs and the Lambda deadline', () => {
  it(
    'renewal takes up nothing when less than the margin is left, and the next run renews what it left',
    { timeout: 60_000 },
    async () => {
      const orgs = await Promise.all(Array.from({ length: 5 }, () => newBillingOrg('jobres-late', ago(40))));
      const handler = await handlerOf<SubscriptionReport>('renewal');
      const warnings = vi.spyOn(logger, 'warn');

      const cut = await handler({ job: 'renewal' }, nearlySpent('renewal'));
      expect(cut).toMatchObject({ applied: 0, skipped: 0, failed: [] });
      expect(cut.due).toBeGreaterThanOrEqual(orgs.length);
      expect(cut.leftForNextRun).toBe(cut.due);
      expect(warnings).toHaveBeenCalledWith(
        'Job stopped with work left for the next run',
        expect.objectContaining({ job: 'renewal' }),
      );

      const next = await handler({ job: 'renewal' }, withTime('renewal'));
      expect(next.leftForNextRun).toBe(0);
      expect(next.failed.filter((f) => orgs.includes(f.orgId))).toEqual([]);
      const now = new Date().toISOString();
      for (const orgId of orgs) {
        expect((await getSubscription(orgId)).currentPeriodEnd > now).toBe(true);
        expect(await grants(orgId)).toBe(2);
      }
    },
  );

  it(
    'renewal cut short halfway finishes what it took up, leaves the rest whole for the next run, and returns its report',
    { timeout: 60_000 },
    async () => {
      const orgs = await Promise.all(Array.from({ length: 12 }, () => newBillingOrg('jobres-half', ago(40))));
      const handler = await handlerOf<SubscriptionReport>('renewal');

      // Three looks with time: three subscriptions taken up by the workers, none after.
      const cut = await handler({ job: 'renewal' }, runningOut('renewal', 3));
      expect(cut.applied + cut.skipped + cut.failed.length).toBe(3);
      expect(cut.leftForNextRun).toBe(cut.due - 3);
      expect(cut.due).toBeGreaterThanOrEqual(orgs.length);

      // Each of ours renewed whole (new period, its grant, its marker moved on) or not at all.
      const now = new Date().toISOString();
      for (const orgId of orgs) {
        const sub = await getSubscription(orgId);
        const { data: marker } = await billingDb.due.get({ orgId, kind: 'renewal' }).go({ consistent: true });
        const renewed = sub.currentPeriodEnd > now;
        expect({ orgId, grants: await grants(orgId), markerMovedOn: marker!.dueAt > now }).toEqual({
          orgId,
          grants: renewed ? 2 : 1,
          markerMovedOn: renewed,
        });
      }

      await handler({ job: 'renewal' }, withTime('renewal'));
      for (const orgId of orgs) expect(await grants(orgId)).toBe(2);
    },
  );
});

describe('daily-usage and model-metrics jobs and the Lambda deadline', () => {
  it('daily-usage rebuilds no day when less than the margin is left, and says how many days it left', async () => {
    const report = await (
      await handlerOf<{ days: unknown[]; leftForNextRun: number }>('daily-usage')
    )({}, nearlySpent('daily-usage'));
    expect(report.days).toEqual([]);
    // Yesterday and the day before at least.
    expect(report.leftForNextRun).toBeGreaterThanOrEqual(2);
  });

  it('model-metrics carries no hour when less than the margin is left, and says which it left', async () => {
    const report = await (
      await handlerOf<{ hours: string[]; models: number; leftForNextRun: number }>('model-metrics')
    )({}, nearlySpent('model-metrics'));
    expect(report).toMatchObject({ hours: [], models: 0, rollups: 0 });
    // The current hour and the one before at least.
    expect(report.leftForNextRun).toBeGreaterThanOrEqual(2);
  });
});
