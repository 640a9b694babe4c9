import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ledgerDb } from '@platform/domain/billing/entities';
import { dynamo } from '@platform/domain/shared/dynamo';
import { RESERVATION_SHARDS, credit, drawWrite, getBalance, release } from '@platform/domain/billing/ledger';
import { transactWrite } from '@platform/domain/shared/transactions';
import type { OrgAccess } from '@platform/domain/identity/access';
import type { Organization } from '@platform/domain/identity/entities';
import { clock } from '@platform/domain/shared/clock';
import {
  admit,
  forgetLeases,
  LEASE_MS,
  record,
  setLeaseSizing,
  type CallRecord,
  type MeteredCall,
} from '@platform/domain/gateway/metering';
import { metricsDb, modelMetrics, modelMetricsJob, percentile, bucketOf, ALL, SETTLE_MS } from '@platform/domain/gateway/metrics';
import type { Candidate } from '@platform/domain/gateway/types';
import { listUsage } from '@platform/domain/usage/logs';
import { GATEWAY_TIMEOUT_SECONDS } from '@platform/domain/gateway/timeouts';
import { limitsWithUsage } from '@platform/domain/billing/limits';

/**
 * Metering of gateway calls against DynamoDB Local: admission (limits + hold) is all or
 * nothing, and the record (settlement + usage log + model metric) happens exactly once.
 */
const newOrg = () => `org_${randomUUID().replace(/-/g, '').slice(0, 26)}`;
const userId = () => randomUUID();

function accessFor(orgId: string, overrides: unknown[] = []): OrgAccess {
  const org = {
    orgId,
    name: 'Test',
    slug: orgId,
    orgType: 'TEAM',
    planId: 'free',
    limitOverrides: overrides,
  } as unknown as Organization;
  return {
    orgId,
    org,
    caller: { kind: 'user', userId: userId(), groups: [], isPlatformAdmin: false },
    permissions: new Set(['gateway:invoke']),
    actorId: 'u',
    actorType: 'user',
  };
}

const modelId = `test-model-${randomUUID().slice(0, 8)}`;
const candidate = (keySource: 'platform' | 'byok' = 'platform', model = modelId): Candidate => ({
  modelId: model,
  modelName: 'Test model',
  type: 'TEXT',
  // 1 USD per million tokens each way: 10_000 tokens = 1 cent = 1 credit.
  pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 1_000_000 },
  target: { adapter: 'local', providerSlug: 'local', providerModelId: 'local-chat' },
  keySource,
  reason: 'test',
});

const done = (c: Candidate | undefined, usage: CallRecord['usage'], latencyMs = 40): CallRecord => {
  const requestAt = new Date();
  return {
    candidate: c,
    requestedModel: modelId,
    usage,
    status: 'SUCCESS',
    requestAt,
    responseAt: new Date(requestAt.getTime() + latencyMs),
  };
};

/** What the organization's hourly chat counter says is used. */
async function hourlyUsed(access: OrgAccess) {
  const limits = await limitsWithUsage(access.org);
  return limits.find((l) => l.resource === 'chat' && l.window === 'hourly')!.used;
}

async function ledgerSum(orgId: string) {
  const { data } = await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' });
  return data.reduce((sum, row) => sum + row.amount, 0);
}

/**
 * The expired-holds job (`releaseExpiredReservations`) as it would run at `at`, for this
 * organization's holds only: its query, then a release of each. The job itself, run minutes
 * ahead, would also release the live holds that other files running beside this one hold
 * until before then (the ledger's sweep race, the API's gateway calls and leases).
 */
async function sweepAt(orgId: string, at: Date) {
  for (let shard = 0; shard < RESERVATION_SHARDS; shard++) {
    const { data } = await ledgerDb.reservation.query
      .byStatus({ status: 'held', shard })
      .lt({ expiresAt: at.toISOString() })
      .go({ pages: 'all' });
    for (const hold of data) if (hold.orgId === orgId) await release(hold.orgId, hold.reservationId);
  }
}

/**
 * Limits count in clock hours (and days): a test running across the top of the hour would see
 * its counters start again halfway. Each test starts more than a test's time limit (20 s)
 * before the next hour, waiting for that hour to begin if need be.
 */
beforeEach(async () => {
  const left = 3_600_000 - (Date.now() % 3_600_000);
  if (left < 25_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}, 40_000);

describe('gateway metering (DynamoDB Local)', () => {
  it('holds the estimate, then charges the real tokens with one usage log, once', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const call: MeteredCall = { access: accessFor(orgId), requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    const held = await admit(call, 10);
    expect(await getBalance(orgId)).toMatchObject({ available: 90, reserved: 10 });

    const outcome = done(candidate(), { inputTokens: 20_000, outputTokens: 10_001 });
    expect(await record(call, held, outcome)).toEqual({ credits: 4, costMicros: 30_001 });
    // Recording again (a retried after-step) changes nothing.
    await record(call, held, outcome);
    expect(await getBalance(orgId)).toMatchObject({ available: 96, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(96);
    const { items } = await listUsage(orgId);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ model: modelId, inputTokens: 20_000, outputTokens: 10_001, credits: 4, status: 'success' });
  });

  it('refuses a call the balance cannot cover with 402, counting no limit', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 5);
    const access = accessFor(orgId, [{ subject: 'org', resource: 'chat', hourly: 1 }]);
    await expect(admit({ access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' }, 6)).rejects.toMatchObject({
      status: 402,
    });
    // The hourly limit of one call was not used by the refused call.
    await expect(admit({ access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' }, 5)).resolves.toBeDefined();
    await expect(admit({ access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' }, 0)).rejects.toMatchObject({
      status: 429,
    });
    expect(await getBalance(orgId)).toMatchObject({ available: 0, reserved: 5 });
  });

  it('refuses a call past a limit with 429 and Retry-After, holding no credits', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, [{ subject: 'org', resource: 'chat', hourly: 2 }]);
    const calls = await Promise.allSettled(
      Array.from({ length: 6 }, () => admit({ access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' }, 3)),
    );
    const refused = calls.filter((c) => c.status === 'rejected').map((c) => (c as PromiseRejectedResult).reason);
    expect(calls.filter((c) => c.status === 'fulfilled')).toHaveLength(2);
    expect(refused.every((e) => e.status === 429 && Number(e.headers['retry-after']) > 0)).toBe(true);
    expect(await getBalance(orgId)).toMatchObject({ available: 94, reserved: 6 });
  });

  it('logs a bring-your-own-key call without charging credits', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 10);
    const call: MeteredCall = { access: accessFor(orgId), requestId: randomUUID(), agentType: 'chat' };
    const held = await admit(call, 0);
    expect(held.lease.held).toBeUndefined();
    expect(await record(call, held, done(candidate('byok'), { inputTokens: 50_000, outputTokens: 50_000 }))).toEqual({
      credits: 0,
      costMicros: 100_000,
    });
    expect(await getBalance(orgId)).toMatchObject({ available: 10, reserved: 0 });
    const { items } = await listUsage(orgId);
    expect(items[0]).toMatchObject({
      credits: 0,
      totalCostMicros: 100_000,
      metadata: expect.objectContaining({ keySource: 'byok' }),
    });
  });

  it('releases the hold of a failed call and still logs it', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 10);
    const call: MeteredCall = { access: accessFor(orgId), requestId: randomUUID(), agentType: 'chat' };
    const held = await admit(call, 8);
    await record(call, held, { ...done(undefined, {}), status: 'ERROR', errorType: 'server' });
    expect(await getBalance(orgId)).toMatchObject({ available: 10, reserved: 0 });
    expect((await listUsage(orgId)).items[0]).toMatchObject({ status: 'error', credits: 0, provider: 'none' });
  });

  it('charges a call whose hold a sweep released while it ran, once', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 10);
    const call: MeteredCall = { access: accessFor(orgId), requestId: randomUUID(), agentType: 'chat' };
    const held = await admit(call, 5);
    // The sweep runs later than the hold's expiry.
    await sweepAt(orgId, new Date(Date.parse(held.lease.held!.expiresAt) + 1_000));
    expect(await getBalance(orgId)).toMatchObject({ available: 10, reserved: 0 });
    const outcome = done(candidate(), { inputTokens: 30_000 });
    expect(await record(call, held, outcome)).toMatchObject({ credits: 3 });
    expect(await record(call, held, outcome)).toMatchObject({ credits: 0 });
    expect(await getBalance(orgId)).toMatchObject({ available: 7, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(7);
    expect((await listUsage(orgId)).items).toHaveLength(1);
  });

  it('records and charges a call whose provider reported counts that are not token counts: fractions up, the rest as 0', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const call: MeteredCall = { access: accessFor(orgId), requestId: randomUUID(), agentType: 'chat' };
    const held = await admit(call, 10);
    const reported = { inputTokens: -5, outputTokens: 20_000.5 };
    expect(await record(call, held, done(candidate(), reported))).toEqual({ credits: 3, costMicros: 20_001 });
    expect(await getBalance(orgId)).toMatchObject({ available: 97, reserved: 0 });
    const { items } = await listUsage(orgId);
    expect(items).toEqual([
      expect.objectContaining({
        inputTokens: 0,
        outputTokens: 20_001,
        credits: 3,
        metadata: expect.objectContaining({ usageInvalid: reported }),
      }),
    ]);
  });

  it('records a count past any call (10^16 tokens) as a billion, and keeps what the provider said as a string', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const call: MeteredCall = { access: accessFor(orgId), requestId: randomUUID(), agentType: 'chat' };
    const held = await admit(call, 10);
    // Priced far past the hold and the balance: the hold alone is charged, as for any such call.
    expect(await record(call, held, done(candidate(), { inputTokens: 10, outputTokens: 1e16 }))).toMatchObject({ credits: 10 });
    expect(await getBalance(orgId)).toMatchObject({ available: 90, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(90);
    const { items } = await listUsage(orgId);
    expect(items).toEqual([
      expect.objectContaining({
        inputTokens: 10,
        outputTokens: 1_000_000_000,
        credits: 10,
        metadata: expect.objectContaining({ usageInvalid: { inputTokens: 10, outputTokens: '10000000000000000' } }),
      }),
    ]);
  });

  it('logs what was charged when the cost passes the hold and the balance: the hold, and the shortfall', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 10);
    const call: MeteredCall = { access: accessFor(orgId), requestId: randomUUID(), agentType: 'chat' };
    const held = await admit(call, 5);
    // The provider reports 50 credits of tokens; the hold has 5 and the balance 5 more.
    expect(await record(call, held, done(candidate(), { inputTokens: 500_000 }))).toMatchObject({ credits: 5 });
    expect(await getBalance(orgId)).toMatchObject({ available: 5, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(5);
    const { items } = await listUsage(orgId);
    expect(items).toEqual([
      expect.objectContaining({ credits: 5, metadata: expect.objectContaining({ requested: 50, shortfall: 45 }) }),
    ]);
  });
});

describe('gateway admission leases (DynamoDB Local)', () => {
  afterEach(() => {
    setLeaseSizing();
    vi.useRealTimers();
    clock.reset();
    forgetLeases(); // each test's leases are its own: none closes during the next test
  });
  /** Limits with room for leases (a lease takes at most a tenth of a limit). */
  const roomy = [{ subject: 'org', resource: 'chat', hourly: 1000 }];
  const pricey = (credits: number) => ({ inputTokens: credits * 10_000 });

  it('admit a caller’s calls from one lease under load, take the next ahead, and settle each as one ledger row', async () => {
    setLeaseSizing(() => 5);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, roomy);
    const charged: number[] = [];
    const reserved: number[] = [];
    for (let i = 0; i < 5; i++) {
      const call: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
      const admission = await admit(call, 4);
      charged.push((await record(call, admission, done(candidate(), pricey(i % 2 ? 1 : 3)))).credits);
      reserved.push((await getBalance(orgId)).reserved);
    }
    expect(charged).toEqual([3, 1, 3, 1, 3]);
    // A lease of 5 calls × 4 credits; at the third call (half used) the next one was taken ahead;
    // the fifth spent the first, which closed, charging what its calls drew.
    expect(reserved).toEqual([20, 20, 40, 40, 20]);
    expect(await getBalance(orgId)).toMatchObject({ available: 69, reserved: 20 });
    const { data: rows } = await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' });
    expect(rows.filter((r) => r.type === 'settle')).toEqual([
      expect.objectContaining({ amount: -11, metadata: expect.objectContaining({ calls: 5 }) }),
    ]);
    expect(await ledgerSum(orgId)).toBe(89);
    const { items } = await listUsage(orgId);
    expect(items.map((u) => u.credits).sort()).toEqual([1, 1, 3, 3, 3]);
  });

  it('give back what a lease did not use: credits, and the limit units its calls did not make', async () => {
    setLeaseSizing(() => 10);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, [{ subject: 'org', resource: 'chat', hourly: 500 }]);
    const call: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    const admission = await admit(call, 2);
    expect(await getBalance(orgId)).toMatchObject({ available: 80, reserved: 20 });
    expect(await hourlyUsed(access)).toBe(10);
    await record(call, admission, done(candidate(), pricey(1)));
    // Its time is up (the container went quiet): the caller's next call closes it and opens another.
    admission.lease.validUntil = Date.now() - 1;
    setLeaseSizing(() => 1);
    const next: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    await record(next, await admit(next, 2), done(candidate(), pricey(2)));
    expect(await getBalance(orgId)).toMatchObject({ available: 97, reserved: 0 });
    expect(await hourlyUsed(access)).toBe(2);
    expect(await ledgerSum(orgId)).toBe(97);
  });

  it('refuse exactly where calls one by one would: at a limit (429) and at the balance (402)', async () => {
    setLeaseSizing(() => 20);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 10);
    const access = accessFor(orgId, [{ subject: 'org', resource: 'chat', hourly: 4 }]);
    const admitted = [];
    for (let i = 0; i < 3; i++) {
      const call: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
      admitted.push(await admit(call, 3).then((a) => record(call, a, done(candidate(), pricey(3)))));
    }
    // A lease of 4 calls (the hourly limit) × 3 credits is more than the 10 there are: calls came one by one.
    expect(admitted.map((r) => r.credits)).toEqual([3, 3, 3]);
    expect(await getBalance(orgId)).toMatchObject({ available: 1, reserved: 0 });
    await expect(admit({ access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' }, 3)).rejects.toMatchObject({
      status: 402,
    });
    const org2 = newOrg();
    await credit(org2, 'grant', 'grant', 100);
    const limited = accessFor(org2, [{ subject: 'org', resource: 'chat', hourly: 3 }]);
    const results = [];
    for (let i = 0; i < 4; i++) {
      const call: MeteredCall = { access: limited, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
      results.push(
        await admit(call, 1).then(
          (a) => record(call, a, done(candidate(), pricey(1))).then(() => 'ok'),
          (e) => e.status,
        ),
      );
    }
    expect(results).toEqual(['ok', 'ok', 'ok', 429]);
  });

  it('serve a caller’s next call from its lease while the last call’s record is still being written', async () => {
    setLeaseSizing(() => 5);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, roomy);
    const call = (): MeteredCall => ({ access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' });
    const [a, b] = [call(), call()];
    const first = await admit(a, 2);
    const recording = record(a, first, done(candidate(), pricey(1)));
    const second = await admit(b, 2);
    expect(second.lease).toBe(first.lease);
    await Promise.all([recording, record(b, second, done(candidate(), pricey(2)))]);
    // One lease (5 × 2 credits) held; its two draws wait for its close to be settled.
    expect(await getBalance(orgId)).toMatchObject({ available: 90, reserved: 10 });
    expect((await listUsage(orgId)).items.map((u) => u.credits).sort()).toEqual([1, 2]);
  });

  it('group the records of concurrent calls into shared transactions, each recorded once', async () => {
    setLeaseSizing(() => 5);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 1000);
    // Twelve callers at once (a lease each), and one record sent twice.
    const calls: MeteredCall[] = Array.from({ length: 12 }, () => ({
      access: accessFor(orgId, roomy),
      requestId: randomUUID(),
      agentType: 'chat',
      resource: 'chat',
    }));
    const admissions = await Promise.all(calls.map((call) => admit(call, 2)));
    const outcome = done(candidate(), pricey(1));
    const recorded = await Promise.all([
      ...calls.map((call, i) => record(call, admissions[i]!, outcome)),
      record(calls[0]!, admissions[0]!, outcome),
    ]);
    expect(recorded.reduce((sum, r) => sum + r.credits, 0)).toBe(12);
    expect((await listUsage(orgId, { limit: 50 })).items).toHaveLength(12);
    // Twelve leases of 5 calls × 2 credits are held; what was drawn is settled when they close.
    expect(await getBalance(orgId)).toMatchObject({ available: 880, reserved: 120 });
  });

  it('draw the records of one lease’s calls that wait for a transaction together, with one draw of their sum and one metric item', async () => {
    setLeaseSizing(() => 10);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, roomy);
    const drawsSent: number[] = [];
    const metricItemsSent: number[] = [];
    const stopCounting = dynamo().observe(({ input }) => {
      const items: Array<Record<string, any>> = input.TransactItems ?? [];
      const draws = items.filter((item) => String(item.Update?.Key?.sk ?? '').startsWith('$creditreservation'));
      if (draws.length) drawsSent.push(draws.length);
      const metrics = items.filter((item) => String(item.Put?.Item?.sk ?? '').startsWith('$modelmetric'));
      if (metrics.length) metricItemsSent.push(metrics.length);
    });
    try {
      // The first call's record is in flight when the next four are recorded: they wait, then go together.
      const calls = Array.from({ length: 5 }, (): MeteredCall => ({
        access,
        requestId: randomUUID(),
        agentType: 'chat',
        resource: 'chat',
      }));
      const recording: Promise<unknown>[] = [];
      for (const [i, call] of calls.entries()) {
        const admission = await admit(call, 2);
        recording.push(record(call, admission, done(candidate(), pricey(i + 1))));
      }
      const recorded = await Promise.all(recording);
      expect(recorded.map((r: any) => r.credits)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      stopCounting();
    }
    expect(drawsSent).toEqual([1, 1]);
    // The four calls' metrics went as one item, and each call counts once.
    expect(metricItemsSent).toEqual([1, 1]);
    const hour = new Date();
    const metrics = await modelMetrics(
      modelId,
      orgId,
      new Date(hour.getTime() - 3_600_000),
      new Date(hour.getTime() + 3_600_000),
    );
    expect(metrics).toMatchObject({ calls: 5, errors: 0 });
    expect((await listUsage(orgId)).items.map((u) => u.credits).sort()).toEqual([1, 2, 3, 4, 5]);
    const { data: holds } = await ledgerDb.reservation.query.byId({ orgId }).go({ pages: 'all' });
    // The lease drew all five calls; the next lease, taken ahead at half, none yet.
    expect(holds.map((h) => h.drawn ?? 0).sort((a, b) => a - b)).toEqual([0, 15]);
  });

  /** Six calls of one caller from a lease of 10 (× 2 credits): half used, the next lease was taken ahead. */
  /** The clock and the leases' timers past the lease's end; then, once the timers' closes land, the balance and the hour's use. */
  /** An organization with `balance` credits whose member's first call opened a lease of 5 × 2 credits, drawing `drawn`. */
  async function openLease(balance: number, drawn: CallRecord['usage']) {
    setLeaseSizing(() => 5);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', balance);
    const access = accessFor(orgId, roomy);
    const member = (): MeteredCall => ({ access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' });
    const first = member();
    await record(first, await admit(first, 2), done(candidate(), drawn));
    return { orgId, access, member };
  }

  async function pastLeaseEnd(access: OrgAccess, balance: { available: number; reserved: number }, used: number) {
    clock.advance(LEASE_MS);
    vi.advanceTimersByTime(LEASE_MS + 1);
    await vi.waitFor(
      async () => {
        expect(await getBalance(access.orgId)).toMatchObject(balance);
        expect(await hourlyUsed(access)).toBe(used);
      },
      { timeout: 5_000, interval: 50 },
    );
  }

  async function burst(access: OrgAccess) {
    setLeaseSizing(() => 10);
    for (let i = 0; i < 6; i++) {
      const call: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
      await record(call, await admit(call, 2), done(candidate(), pricey(1)));
    }
    expect(await getBalance(access.orgId)).toMatchObject({ available: 60, reserved: 40 });
    expect(await hourlyUsed(access)).toBe(20);
  }

  it('close the leases of a caller that went quiet at their end, the one taken ahead too, giving back all they did not use', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, roomy);
    await burst(access);
    // No call comes any more: the leases' timers close them at their end.
    await pastLeaseEnd(access, { available: 94, reserved: 0 }, 6);
    expect(await ledgerSum(orgId)).toBe(94);
  });

  it('close, at the container’s next call, leases whose end passed while it was frozen (no timer ran)', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, roomy);
    await burst(access);
    // A Lambda container frozen past the leases' end: the clock moved on, no timer ran. Another
    // member's call is the container's next; its record waits for the closes.
    clock.advance(LEASE_MS);
    setLeaseSizing(() => 1);
    const other: MeteredCall = { access: accessFor(orgId, roomy), requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    await record(other, await admit(other, 2), done(candidate(), pricey(1)));
    expect(await getBalance(orgId)).toMatchObject({ available: 93, reserved: 0 });
    expect(await hourlyUsed(access)).toBe(7);
    expect(await ledgerSum(orgId)).toBe(93);
  });

  it('settle a lease that closes while its last call’s draw is on its way with that draw, once', async () => {
    setLeaseSizing(() => 5);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, roomy);
    const call: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    const admission = await admit(call, 4);
    // Its record has sent its draw and freed the lease when the lease's end comes: the container's
    // next call (another member's) closes the lease while that draw is still on its way.
    const recording = record(call, admission, done(candidate(), pricey(3)));
    clock.advance(LEASE_MS);
    setLeaseSizing(() => 1);
    const other: MeteredCall = { access: accessFor(orgId, roomy), requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    await record(other, await admit(other, 2), done(candidate(), pricey(1)));
    expect(await recording).toMatchObject({ credits: 3 });
    expect(await getBalance(orgId)).toMatchObject({ available: 96, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(96);
    const { data: holds } = await ledgerDb.reservation.query.byId({ orgId }).go({ pages: 'all' });
    expect(holds.filter((h) => h.status === 'held')).toEqual([]);
  });

  it('settle a lease’s hold as it stands in the table when a draw landed that the lease did not hear of', async () => {
    setLeaseSizing(() => 5);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, roomy);
    const call: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    const admission = await admit(call, 4);
    await record(call, admission, done(candidate(), pricey(3)));
    // A draw whose answer was lost (it landed, the container never learned it): its `drawn` is behind.
    await transactWrite([drawWrite(admission.lease.held!, 2)]);
    clock.advance(LEASE_MS);
    setLeaseSizing(() => 1);
    const other: MeteredCall = { access: accessFor(orgId, roomy), requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    await record(other, await admit(other, 2), done(candidate(), pricey(1)));
    expect(await getBalance(orgId)).toMatchObject({ available: 94, reserved: 0 });
    const { data: rows } = await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' });
    expect(rows.filter((r) => r.type === 'settle' && r.metadata?.calls)).toEqual([expect.objectContaining({ amount: -5 })]);
  });

  it('log what a lease’s call was charged when its cost passes what the lease holds: the rest from the balance as far as it goes', async () => {
    setLeaseSizing(() => 2);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 30);
    const access = accessFor(orgId, roomy);
    const charged = [];
    for (let i = 0; i < 2; i++) {
      // A lease of 2 calls × 3 credits each time; each call costs 20.
      const call: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
      charged.push((await record(call, await admit(call, 3), done(candidate(), pricey(20)))).credits);
    }
    // The first: 6 from its lease, 14 from the 24 available. The second: 6 from its lease, and 4
    // available were short of the 14 more, so the lease's 6 alone.
    expect(charged).toEqual([20, 6]);
    clock.advance(LEASE_MS); // both leases close at the container's next call
    setLeaseSizing(() => 1);
    const other: MeteredCall = { access: accessFor(orgId, roomy), requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    await record(other, await admit(other, 1), done(candidate(), pricey(1)));
    expect(await getBalance(orgId)).toMatchObject({ available: 3, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(3);
    const { items } = await listUsage(orgId);
    expect(items.reduce((sum, u) => sum + u.credits, 0)).toBe(27);
    expect(items.find((u) => u.credits === 6)).toMatchObject({
      metadata: expect.objectContaining({ requested: 20, shortfall: 14 }),
    });
  });

  it('give back what another caller’s idle lease holds when a call would be refused without it (402, 429)', async () => {
    setLeaseSizing(() => 5);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 12);
    const member = (access: OrgAccess): MeteredCall => ({ access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' });
    const first = member(accessFor(orgId, roomy));
    await record(first, await admit(first, 2), done(candidate(), pricey(1)));
    // Its idle lease holds 10 of the 11 credits left; another member's call of 5 is covered by the balance.
    expect(await getBalance(orgId)).toMatchObject({ available: 2, reserved: 10 });
    const second = member(accessFor(orgId, roomy));
    expect(await record(second, await admit(second, 5), done(candidate(), pricey(4)))).toMatchObject({ credits: 4 });
    expect(await getBalance(orgId)).toMatchObject({ available: 7, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(7);

    // The same for limit units: a lease of 2 (a tenth of 20) of which one call was made.
    setLeaseSizing(() => 2);
    const org2 = newOrg();
    const limited = [{ subject: 'org', resource: 'chat', hourly: 20 }];
    const idle = member(accessFor(org2, limited));
    await record(idle, await admit(idle, 0), done(candidate('byok'), pricey(1)));
    setLeaseSizing(() => 1);
    const busy = accessFor(org2, limited);
    for (let i = 0; i < 18; i++) {
      const call = member(busy);
      await record(call, await admit(call, 0), done(candidate('byok'), pricey(1)));
    }
    // 20 counted, 19 calls made: the 20th is allowed, the 21st is not.
    const last = member(busy);
    await record(last, await admit(last, 0), done(candidate('byok'), pricey(1)));
    expect(await hourlyUsed(busy)).toBe(20);
    await expect(admit(member(busy), 0)).rejects.toMatchObject({ status: 429 });
  });

  it('give back at a lease’s end what no call was promised while its call still streams, keeping that call’s promise held', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    const { orgId, access, member } = await openLease(12, pricey(1)); // a lease of 5 × 2 held, 1 drawn
    const long = member();
    const admission = await admit(long, 2); // a long stream: the container runs it past the lease's end
    expect(await getBalance(orgId)).toMatchObject({ available: 2, reserved: 10 });
    // Held still: what was drawn (1) and the stream's promise (2); the 3 limit units no call made are back.
    await pastLeaseEnd(access, { available: 9, reserved: 3 }, 2);
    // It ends costing 4: its promise from the hold, the rest from the balance; its record closes the lease.
    expect(await record(long, admission, done(candidate(), pricey(4)))).toMatchObject({ credits: 4 });
    expect(await getBalance(orgId)).toMatchObject({ available: 7, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(7);
    const { data: holds } = await ledgerDb.reservation.query.byId({ orgId }).go({ pages: 'all' });
    expect(holds).toEqual([expect.objectContaining({ status: 'settled', amount: 3, settledAmount: 3 })]);
  });

  it('give back the whole hold at a lease’s end when its running call was promised nothing (a call on its own key)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    const { orgId, access, member } = await openLease(12, {}); // a lease of 5 × 2 held, nothing drawn
    const own = member();
    const admission = await admit(own, 0); // a call on the organization's own key: promised nothing, streams past the end
    await pastLeaseEnd(access, { available: 12, reserved: 0 }, 2);
    expect(await record(own, admission, done(candidate('byok'), pricey(3)))).toMatchObject({ credits: 0 });
    expect(await getBalance(orgId)).toMatchObject({ available: 12, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(12);
  });

  it('keep a lease’s hold past the longest call it can admit: the sweep gives back nothing promised to a call still streaming', async () => {
    const { orgId, access, member } = await openLease(20, pricey(2)); // a lease of 5 × 2 held, 2 drawn
    const long = member();
    const admission = await admit(long, 2); // admitted at the lease's last moment, it streams as long as the function runs
    // The sweep runs just as the longest such call ends.
    await sweepAt(orgId, new Date(Date.now() + LEASE_MS + GATEWAY_TIMEOUT_SECONDS * 1000));
    expect(await getBalance(orgId)).toMatchObject({ available: 10, reserved: 10 });
    expect(await record(long, admission, done(candidate(), pricey(2)))).toMatchObject({ credits: 2 });
    forgetLeases(); // the container dies: its hold is the sweep's, minutes later
    await sweepAt(orgId, new Date(Date.parse(admission.lease.held!.expiresAt) + 1_000));
    expect(await getBalance(orgId)).toMatchObject({ available: 16, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(16);
  });

  it('charge a lease’s call whose hold the sweep released what the balance still has, with the shortfall in its log and ledger row', async () => {
    const { orgId, access, member } = await openLease(20, pricey(2)); // a lease of 5 × 2 held, 2 drawn
    const long = member();
    const admission = await admit(long, 2);
    // Its hold swept anyway (a late call, clocks apart): the 8 not drawn are available, and another call spends 7.
    await sweepAt(orgId, new Date(Date.parse(admission.lease.held!.expiresAt) + 1_000));
    setLeaseSizing(() => 1);
    const other: MeteredCall = { access: accessFor(orgId, roomy), requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
    await record(other, await admit(other, 17), done(candidate(), pricey(17)));
    expect(await getBalance(orgId)).toMatchObject({ available: 1, reserved: 0 });
    // It costs 3: the 1 left is charged, the shortfall logged; once.
    expect(await record(long, admission, done(candidate(), pricey(3)))).toMatchObject({ credits: 1 });
    expect(await record(long, admission, done(candidate(), pricey(3)))).toMatchObject({ credits: 0 });
    expect(await getBalance(orgId)).toMatchObject({ available: 0, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(0);
    const log = (await listUsage(orgId)).items.find((u) => u.metadata?.requestId === long.requestId);
    expect(log).toMatchObject({ credits: 1, metadata: expect.objectContaining({ requested: 3, shortfall: 2 }) });
    const { data: rows } = await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' });
    expect(rows.find((r) => r.key === `call:gw:${long.requestId}`)).toMatchObject({
      amount: -1,
      metadata: expect.objectContaining({ requested: 3, shortfall: 2 }),
    });
  });

  it('leave a dead container’s lease to the sweep, which charges what its calls drew and releases the rest', async () => {
    setLeaseSizing(() => 5);
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    const access = accessFor(orgId, roomy);
    let hold;
    for (let i = 0; i < 2; i++) {
      const call: MeteredCall = { access, requestId: randomUUID(), agentType: 'chat', resource: 'chat' };
      const admission = await admit(call, 5);
      hold = admission.lease.held!;
      await record(call, admission, done(candidate(), pricey(2)));
    }
    forgetLeases(); // the container is gone, its lease open
    expect(await getBalance(orgId)).toMatchObject({ available: 75, reserved: 25 });
    await sweepAt(orgId, new Date(Date.parse(hold!.expiresAt) + 1_000));
    expect(await getBalance(orgId)).toMatchObject({ available: 96, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(96);
  });
});

describe('model metrics', () => {
  it('of recorded calls roll up per model and organization, with percentiles from the histogram', async () => {
    const orgA = newOrg();
    const orgB = newOrg();
    await credit(orgA, 'grant', 'grant', 1000);
    await credit(orgB, 'grant', 'grant', 1000);
    const measured = `measured-${randomUUID().slice(0, 8)}`;
    const hour = new Date().toISOString().slice(0, 13); // the calls' (the test starts well before the next)
    const latencies = [30, 40, 50, 60, 900];
    for (const [i, latency] of latencies.entries()) {
      const org = i < 4 ? orgA : orgB;
      const call: MeteredCall = { access: accessFor(org), requestId: randomUUID(), agentType: 'chat' };
      const outcome = done(candidate('platform', measured), { inputTokens: 100, outputTokens: 10 }, latency);
      await record(call, await admit(call, 1), i === 4 ? { ...outcome, status: 'ERROR', errorType: 'server' } : outcome);
    }
    const from = new Date(Date.now() - 3_600_000);
    const to = new Date(Date.now() + 3_600_000);
    // Before any roll-up, the current hour is read from the calls themselves.
    expect(await modelMetrics(measured, orgB, from, to)).toMatchObject({ calls: 1, errors: 1, errorTypes: { server: 1 } });

    // The job runs as if SETTLE_MS had passed since now (after these calls were recorded), not
    // since a later instant: every model's roll-up reaches its cutoff, and a call of another file's
    // recorded before that but landing after the job would be counted by no roll-up nor read.
    const run = await modelMetricsJob(new Date(Date.now() + SETTLE_MS));
    expect(run.hours).toContain(hour);
    // Rolled up for all, orgA and orgB (by this run, or by a run of another file's that came first).
    const rollups = await Promise.all(
      [ALL, orgA, orgB].map(async (scope) => (await metricsDb.rollup.get({ modelId: measured, scope, hour }).go()).data?.calls),
    );
    expect(rollups).toEqual([5, 4, 1]);
    // Read two hours on, when only the roll-ups hold these calls.
    const later = new Date(Date.now() + 2 * 3_600_000);
    const all = await modelMetrics(measured, ALL, from, to, { now: later });
    expect(all).toMatchObject({ calls: 5, errors: 1, errorRate: 0.2, tokens: { input: 500, output: 50, total: 550 } });
    expect(all.latencyMs.p50).toBeGreaterThanOrEqual(35);
    expect(all.latencyMs.p50).toBeLessThanOrEqual(50);
    expect(all.latencyMs.p95).toBeGreaterThan(750);
    expect(await modelMetrics(measured, orgA, from, to, { now: later })).toMatchObject({ calls: 4, errors: 0 });
    expect(await modelMetrics(measured, orgB, from, to, { now: later })).toMatchObject({
      calls: 1,
      errors: 1,
      errorTypes: { server: 1 },
    });
  });

  it('computes percentiles from bucket counts', () => {
    const histogram = new Array(23).fill(0);
    histogram[bucketOf(12)] = 50;
    histogram[bucketOf(400)] = 50;
    expect(percentile(histogram, 0.5)).toBe(20);
    expect(percentile(histogram, 0.95)).toBeGreaterThan(300);
    expect(percentile(histogram, 0.95)).toBeLessThanOrEqual(500);
    expect(percentile(new Array(23).fill(0), 0.5)).toBeNull();
  });
});
