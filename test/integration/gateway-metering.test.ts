import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ledgerDb } from '@platform/domain/billing/entities';
import { credit, getBalance, releaseExpiredReservations } from '@platform/domain/billing/ledger';
import type { OrgAccess } from '@platform/domain/identity/access';
import type { Organization } from '@platform/domain/identity/entities';
import { admit, record, type CallRecord, type MeteredCall } from '@platform/domain/gateway/metering';
import { hourOf, modelMetrics, percentile, rollUpHour, bucketOf, ALL } from '@platform/domain/gateway/metrics';
import type { Candidate } from '@platform/domain/gateway/types';
import { listUsage } from '@platform/domain/usage/logs';

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

async function ledgerSum(orgId: string) {
  const { data } = await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' });
  return data.reduce((sum, row) => sum + row.amount, 0);
}

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
    expect(held).toBeUndefined();
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
    const held = (await admit(call, 5))!;
    // The sweep runs later than the hold's expiry.
    await releaseExpiredReservations(new Date(Date.parse(held.expiresAt) + 1_000));
    expect(await getBalance(orgId)).toMatchObject({ available: 10, reserved: 0 });
    const outcome = done(candidate(), { inputTokens: 30_000 });
    expect(await record(call, held, outcome)).toMatchObject({ credits: 3 });
    expect(await record(call, held, outcome)).toMatchObject({ credits: 0 });
    expect(await getBalance(orgId)).toMatchObject({ available: 7, reserved: 0 });
    expect(await ledgerSum(orgId)).toBe(7);
    expect((await listUsage(orgId)).items).toHaveLength(1);
  });
});

describe('model metrics', () => {
  it('roll an hour up per model and organization, with percentiles from the histogram', async () => {
    const orgA = newOrg();
    const orgB = newOrg();
    await credit(orgA, 'grant', 'grant', 1000);
    await credit(orgB, 'grant', 'grant', 1000);
    const measured = `measured-${randomUUID().slice(0, 8)}`;
    const latencies = [30, 40, 50, 60, 900];
    for (const [i, latency] of latencies.entries()) {
      const org = i < 4 ? orgA : orgB;
      const call: MeteredCall = { access: accessFor(org), requestId: randomUUID(), agentType: 'chat' };
      const outcome = done(candidate('platform', measured), { inputTokens: 100, outputTokens: 10 }, latency);
      await record(call, await admit(call, 1), i === 4 ? { ...outcome, status: 'ERROR', errorType: 'server' } : outcome);
    }
    const hour = hourOf(new Date());
    expect(await rollUpHour(hour)).toBeGreaterThanOrEqual(3); // all, orgA, orgB
    expect(await rollUpHour(hour)).toBeGreaterThanOrEqual(3); // twice: the same roll-ups

    const later = new Date(Date.now() + 2 * 3_600_000); // the hour is no longer current: read from its roll-up
    const from = new Date(Date.now() - 3_600_000);
    const all = await modelMetrics(measured, ALL, from, later, later);
    expect(all).toMatchObject({ calls: 5, errors: 1, errorRate: 0.2, tokens: { input: 500, output: 50, total: 550 } });
    expect(all.latencyMs.p50).toBeGreaterThanOrEqual(35);
    expect(all.latencyMs.p50).toBeLessThanOrEqual(50);
    expect(all.latencyMs.p95).toBeGreaterThan(750);
    const a = await modelMetrics(measured, orgA, from, later, later);
    expect(a).toMatchObject({ calls: 4, errors: 0 });
    // The current hour is read from the calls themselves.
    const live = await modelMetrics(measured, orgB, from, later);
    expect(live).toMatchObject({ calls: 1, errors: 1, errorTypes: { server: 1 } });
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
