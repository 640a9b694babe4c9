import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { dynamo } from '@platform/domain/shared/dynamo';
import type { OrgAccess } from '@platform/domain/identity/access';
import type { Organization } from '@platform/domain/identity/entities';
import { admit, record, type MeteredCall } from '@platform/domain/gateway/metering';
import type { Candidate } from '@platform/domain/gateway/types';
import { aggregateDay, getDailyUsage } from '@platform/domain/usage/daily';
import { listUsage, recordUsage } from '@platform/domain/usage/logs';

/**
 * The daily job visits only the organizations marked active on a day: a usage log that landed
 * without its day's marker would never reach the daily totals. The marker's write failing must
 * never leave such a log, on the gateway's path or on `recordUsage`'s.
 */
const newOrg = () => `org_${randomUUID().replace(/-/g, '').slice(0, 26)}`;
const client = dynamo();
const send = client.send;
afterEach(() => {
  client.send = send;
});

function accessFor(orgId: string): OrgAccess {
  const org = { orgId, name: 'T', slug: orgId, orgType: 'TEAM', planId: 'free', limitOverrides: [] } as unknown as Organization;
  return {
    orgId,
    org,
    caller: { kind: 'user', userId: randomUUID(), groups: [], isPlatformAdmin: false },
    permissions: new Set(['gateway:invoke']),
    actorId: 'u',
    actorType: 'user',
  };
}
const modelId = `marker-model-${randomUUID().slice(0, 8)}`;
const byok: Candidate = {
  modelId,
  modelName: 'Marker',
  type: 'TEXT',
  pricing: { inputPerMTokMicros: 1_000_000, outputPerMTokMicros: 1_000_000 },
  target: { adapter: 'local', providerSlug: 'local', providerModelId: 'local-chat' },
  keySource: 'byok',
  reason: 'test',
};

/** The marker's writes fail (throttled), the first `times` of them; every other request goes through. */
function failMarkerWrites(times: number) {
  const state = { failed: 0 };
  client.send = (async (command: { input: unknown }, options?: never) => {
    if (state.failed < times && JSON.stringify(command.input).includes('usageday')) {
      state.failed++;
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ProvisionedThroughputExceededException',
        $retryable: { throttling: true },
      });
    }
    return send.call(client, command as never, options);
  }) as never;
  return state;
}

/** A BYOK gateway call of a fresh organization, recorded now: what `record` did. */
async function gatewayCall(orgId: string) {
  const call: MeteredCall = { access: accessFor(orgId), requestId: `req-${randomUUID()}`, agentType: 'chat', resource: 'chat' };
  const admission = await admit(call, 0);
  const requestAt = new Date();
  return record(call, admission, {
    candidate: byok,
    requestedModel: modelId,
    usage: { inputTokens: 100, outputTokens: 20 },
    status: 'SUCCESS',
    requestAt,
    responseAt: new Date(requestAt.getTime() + 30),
  }).then(
    () => ({ day: requestAt.toISOString().slice(0, 10), threw: undefined }),
    (error: Error) => ({ day: requestAt.toISOString().slice(0, 10), threw: error.name }),
  );
}

/** The organization's calls in the day's aggregate after the daily job's run of the day, and its logs. */
async function aggregatedAndLogged(orgId: string, day: string) {
  await aggregateDay(undefined, day);
  const { items } = await getDailyUsage(orgId, { from: day, to: day });
  const logs = await listUsage(orgId, {});
  return { aggregated: items.reduce((sum, item) => sum + item.calls, 0), logged: logs.items.length };
}

describe('a usage log always has its day marked for the daily job', () => {
  it("a gateway call whose marker write is throttled once is recorded and in its day's aggregate", async () => {
    const orgId = newOrg();
    const failing = failMarkerWrites(1);
    const { day, threw } = await gatewayCall(orgId);
    client.send = send;
    expect(failing.failed).toBe(1);
    expect(await aggregatedAndLogged(orgId, day)).toEqual({ aggregated: 1, logged: 1 });
    expect(threw).toBeUndefined();
  });

  it('a gateway call whose marker fails through the first tries is still recorded, and marked by the tries after it', async () => {
    const orgId = newOrg();
    failMarkerWrites(3); // every try before the call's transaction
    const { day, threw } = await gatewayCall(orgId);
    client.send = send;
    expect(threw).toBeUndefined();
    expect(await aggregatedAndLogged(orgId, day)).toEqual({ aggregated: 1, logged: 1 });
  });

  it('a gateway call whose marker cannot be written at all is still recorded (the failure is reported after)', async () => {
    const orgId = newOrg();
    failMarkerWrites(Infinity);
    const { threw } = await gatewayCall(orgId);
    client.send = send;
    // The charge and the log never wait on the mark: the call is recorded, and the mark's failure reported.
    expect(threw).toBe('ProvisionedThroughputExceededException');
    expect((await listUsage(orgId, {})).items).toHaveLength(1);
  });

  it('recordUsage whose marker cannot be written leaves no log the daily job would miss; retried, it is counted', async () => {
    const orgId = newOrg();
    // A day no other test file uses: the daily job's run of it visits only this organization.
    const day = new Date(Date.UTC(2040, 0, 1) + Math.floor(Math.random() * 900 * 365) * 86_400_000).toISOString().slice(0, 10);
    const input = {
      orgId,
      agentType: 'chat' as const,
      provider: 'bedrock',
      model: 'm1',
      inputTokens: 1,
      outputTokens: 1,
      inputCostMicros: 1,
      outputCostMicros: 1,
      credits: 1,
      requestAt: `${day}T12:00:00.000Z`,
      responseAt: `${day}T12:00:01.000Z`,
      status: 'success' as const,
    };
    failMarkerWrites(Infinity);
    await expect(recordUsage(input, 'k1')).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    client.send = send;
    expect(await aggregatedAndLogged(orgId, day)).toEqual({ aggregated: 0, logged: 0 });
    await recordUsage(input, 'k1');
    expect(await aggregatedAndLogged(orgId, day)).toEqual({ aggregated: 1, logged: 1 });
  });
});
