import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { targetKey } from '@platform/domain/gateway/cooldowns';
import { resolveRoute } from '@platform/domain/gateway/routing';
import {
  consumeCredentialQuota,
  createCredential,
  credentialWithdrawn,
  deleteCredential,
  getCredential,
  patchCredential,
} from '@platform/domain/hub/credentials';
import { hubDb } from '@platform/domain/hub/entities';
import { saveCatalogueModel } from '@platform/domain/hub/models';
import { OWNER_TTL_MS } from '@platform/domain/hub/snapshot';
import { countRequests, newOrgId, orgOwnerOf, platformOwnerOf, saveKeyedProvider, uniqueSlug } from '../helpers/hub.ts';

/**
 * What a call in flight and the cooldowns make of a change to the key they use, against
 * DynamoDB Local: a call's key is withdrawn when its owner deletes or deactivates it, or changes
 * what a call sends (key, base URL, config), and not when a label, a quota or its last use
 * changes; all from memory in steady state. A spent quota is refused from memory until its
 * window ends or the quota changes.
 */
const admin = platformOwnerOf();
const provider = uniqueSlug('key-changes');
const model = uniqueSlug('key-changes-model');
const secret = () => `sk-live-${randomUUID().replace(/-/g, '')}`;

beforeAll(async () => {
  await saveKeyedProvider(admin, provider, 'Key changes');
  await saveCatalogueModel(admin, model, {
    kind: 'external',
    providerSlug: provider,
    providerModelId: 'key-changes-1',
    name: 'Key changes',
    type: 'TEXT',
    capabilities: ['chat'],
    pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
    status: 'Active',
    tags: [],
    aliases: [],
  });
});
afterEach(() => vi.restoreAllMocks());

const route = async (orgId: string) =>
  (await resolveRoute({ orgId, requestedModel: model, type: 'TEXT', planId: 'free', apiKeyStrategy: 'BYOK' })).candidates[0]!;

describe('a call’s key, as its owner changes it', () => {
  it('is withdrawn by a new key, base URL or config, deactivation or deletion; not by a label, a quota or its last use', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    const first = secret();
    const { credentialId } = await createCredential(owner, { label: 'Own', providerSlug: provider, key: first });
    const routed = await route(orgId);
    expect(routed.credentialId).toBe(credentialId);
    // Asked before each attempt: from the snapshot routing just read, no request.
    const warm = await countRequests(() => credentialWithdrawn(routed));
    expect(warm).toEqual({ result: undefined, requests: [] });

    // Nothing a call sends: the call keeps its key, and its cooldown target stays. The key it
    // holds, sent again (a form that always sends it), is no new key either.
    await patchCredential(owner, credentialId, { label: 'Renamed', dailyQuota: 1_000 });
    await patchCredential(owner, credentialId, { key: first });
    const before = (await getCredential(owner, credentialId)).updatedAt;
    await consumeCredentialQuota(routed); // records its last use, which moves `updatedAt`
    expect((await getCredential(owner, credentialId)).updatedAt).not.toBe(before);
    expect(await credentialWithdrawn(routed)).toBeUndefined();
    expect(targetKey(await route(orgId))).toBe(targetKey(routed));

    // What a call sends: withdrawn from the calls routed before, each change a new target.
    const changes = [{ key: secret() }, { baseUrl: 'https://elsewhere.example/v1' }, { config: { region: 'eu' } }];
    let current = routed;
    for (const change of changes) {
      await patchCredential(owner, credentialId, change);
      expect(await credentialWithdrawn(current), JSON.stringify(change)).toBe('changed');
      const next = await route(orgId);
      expect(await credentialWithdrawn(next)).toBeUndefined();
      expect(targetKey(next)).not.toBe(targetKey(current));
      current = next;
    }

    await patchCredential(owner, credentialId, { isActive: false });
    expect(await credentialWithdrawn(current)).toBe('deactivated');
    await deleteCredential(owner, credentialId);
    expect(await credentialWithdrawn(current)).toBe('deleted');
  });

  it('deleted through another instance: withdrawn once this one’s snapshot is older than its TTL', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    const { credentialId } = await createCredential(owner, { label: 'Own', providerSlug: provider, key: secret() });
    const routed = await route(orgId);
    // Deleted as another Lambda instance would: this process's snapshot is not told.
    await hubDb.credential.delete({ owner: owner.key, credentialId }).go();
    expect(await credentialWithdrawn(routed)).toBeUndefined();
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + OWNER_TTL_MS + 1);
    expect(await credentialWithdrawn(routed)).toBe('deleted');
  });

  it('is refused past a spent quota from memory, with no request, until its window ends or the quota is raised', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    const { credentialId } = await createCredential(owner, {
      label: 'Limited',
      providerSlug: provider,
      key: secret(),
      dailyQuota: 1,
    });
    const routed = await route(orgId);
    // At one instant in the middle of a day, far from its end.
    const now = new Date('2031-03-10T12:00:00.000Z');
    const dayEnd = Date.parse('2031-03-11T00:00:00.000Z');
    await consumeCredentialQuota(routed, now);
    const first = await consumeCredentialQuota(routed, now).catch((e: unknown) => e);
    expect(first).toMatchObject({ status: 429, headers: { 'retry-after': String((dayEnd - now.getTime()) / 1000) } });

    const later = new Date(now.getTime() + 60_000);
    const again = await countRequests(() => consumeCredentialQuota(routed, later).catch((e: unknown) => e));
    expect(again.requests).toEqual([]);
    expect(again.result).toMatchObject({
      status: 429,
      message: (first as Error).message,
      headers: {
        'retry-after': String((dayEnd - later.getTime()) / 1000),
        'x-ratelimit-limit': '1',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(dayEnd / 1000),
      },
    });

    // The next day counts afresh.
    await expect(consumeCredentialQuota(routed, new Date(dayEnd))).resolves.toBeUndefined();
    await expect(consumeCredentialQuota(routed, new Date(dayEnd))).rejects.toMatchObject({ status: 429 });

    // A raised quota, once routed through, counts afresh too.
    await patchCredential(owner, credentialId, { dailyQuota: 2 });
    const raised = await route(orgId);
    const counted = await countRequests(() => consumeCredentialQuota(raised, new Date(dayEnd)));
    expect(counted.requests.length).toBeGreaterThan(0);
  });
});
