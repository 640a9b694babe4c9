import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveRoute } from '@platform/domain/gateway/routing';
import {
  consumeCredentialQuota,
  createCredential,
  credentialTarget,
  creationReads,
  deleteCredential as deleteCredentialOf,
  decryptedKey,
  getCredentialForCall,
  getCredential,
  listCredentials,
  patchCredential,
  recordCredentialTest,
} from '@platform/domain/hub/credentials';
import { hubDb, type CredentialItem } from '@platform/domain/hub/entities';
import { patchProvider, providerCatalogue, saveProvider } from '@platform/domain/hub/providers';
import { saveCatalogueModel } from '@platform/domain/hub/models';
import { dynamo, tableName } from '@platform/domain/shared/dynamo';
import { transactGet } from '@platform/domain/shared/transactions';
import { forgetSnapshot } from '@platform/domain/hub/snapshot';
import { decryptSecret, encryptSecret } from '@platform/domain/shared/secrets';
import {
  countRequests,
  newOrgId,
  orgOwnerOf,
  platformOwnerOf,
  saveKeyedProvider,
  uniqueSlug,
  userOwnerOf,
  statusOf,
} from '../helpers/hub.ts';

/**
 * Provider credentials against DynamoDB Local: what is stored (never the key in clear), what
 * decrypts it (only the owner's context), the provider's config schema enforced, one default
 * per provider under concurrency, quotas, and what the `.../test` route will need.
 */
const admin = platformOwnerOf();
const provider = uniqueSlug('keys');
const secret = () => `sk-live-${randomUUID().replace(/-/g, '')}`;

beforeAll(async () => {
  await saveProvider(admin, provider, {
    displayName: 'Schema test',
    adapter: 'openai',
    requiresApiKey: true,
    requiresBaseUrl: false,
    supportsStreaming: true,
    capabilities: ['chat'],
    configSchema: { type: 'object', properties: { region: { type: 'string', enum: ['eu', 'us'] } }, additionalProperties: false },
    group: { name: 'Test' },
    status: 'Active',
  });
});

/** A new TEXT catalogue model of `providerSlug`, priced `pricePerMTok` micro-USD a million tokens in and out; answers its id. */
async function textModel(slug: string, providerSlug: string, providerModelId: string, name: string, pricePerMTok: number) {
  const model = uniqueSlug(slug);
  await saveCatalogueModel(admin, model, {
    kind: 'external',
    providerSlug,
    providerModelId,
    name,
    type: 'TEXT',
    capabilities: ['chat'],
    pricing: { inputPerMTokMicros: pricePerMTok, outputPerMTokMicros: pricePerMTok },
    status: 'Active',
    tags: [],
    aliases: [],
  });
  return model;
}

async function storedItem(owner: string, credentialId: string) {
  const { Key } = hubDb.credential.get({ owner, credentialId }).params() as { Key: Record<string, string> };
  const { Item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key }));
  return Item!;
}

describe('a stored provider key', () => {
  it('is never in the item in clear: an envelope-encrypted blob and the last four characters', async () => {
    const owner = orgOwnerOf(newOrgId());
    const key = secret();
    const created = await createCredential(owner, { label: 'Prod', providerSlug: provider, key });
    const item = await storedItem(owner.key, created.credentialId);
    const raw = JSON.stringify(item);
    expect(raw).not.toContain(key);
    expect(raw).not.toContain(key.slice(8, 24));
    expect(item.keyCipher).toMatch(/^v1\.local\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(item.keyLast4).toBe(key.slice(-4));
    expect(await decryptedKey(hubDb.credential.parse({ Item: item }).data!)).toBe(key);
  });

  it('decrypts only with its own encryption context: another owner’s or credential’s context fails', async () => {
    const owner = orgOwnerOf(newOrgId());
    const created = await createCredential(owner, { label: 'Prod', providerSlug: provider, key: secret() });
    const { keyCipher } = await storedItem(owner.key, created.credentialId);
    const context = { purpose: 'provider-credential', owner: owner.key, credentialId: created.credentialId };
    await expect(decryptSecret(keyCipher, context)).resolves.toMatch(/^sk-live-/);
    await expect(decryptSecret(keyCipher, { ...context, owner: orgOwnerOf(newOrgId()).key })).rejects.toThrow();
    await expect(decryptSecret(keyCipher, { ...context, credentialId: 'pcr_01jq0000000000000000000000' })).rejects.toThrow();

    // A blob copied into another owner's credential does not open there.
    const thief = orgOwnerOf(newOrgId());
    const theirs = await createCredential(thief, { label: 'Theirs', providerSlug: provider, key: secret() });
    const copied = { ...(await getStored(thief.key, theirs.credentialId)), keyCipher, updatedAt: new Date().toISOString() };
    await expect(decryptedKey(copied)).rejects.toThrow();
  });

  it('is re-encrypted when rotated; the old one is gone', async () => {
    const owner = userOwnerOf();
    const created = await createCredential(owner, { label: 'Mine', providerSlug: provider, key: secret() });
    const before = (await storedItem(owner.key, created.credentialId)).keyCipher;
    const rotated = secret();
    await patchCredential(owner, created.credentialId, { key: rotated });
    const after = await storedItem(owner.key, created.credentialId);
    expect(after.keyCipher).not.toBe(before);
    expect(await decryptedKey(hubDb.credential.parse({ Item: after }).data!)).toBe(rotated);
  });
});

async function getStored(owner: string, credentialId: string) {
  return hubDb.credential.parse({ Item: await storedItem(owner, credentialId) }).data!;
}

describe('the provider’s config schema', () => {
  it('is enforced whenever a config is saved, as the platform admin last set it', async () => {
    const owner = orgOwnerOf(newOrgId());
    const refused = createCredential(owner, { label: 'x', providerSlug: provider, key: secret(), config: { region: 'asia' } });
    await expect(refused).rejects.toMatchObject({ status: 400, fieldErrors: [{ path: 'config.region' }] });
    const created = await createCredential(owner, {
      label: 'x',
      providerSlug: provider,
      key: secret(),
      config: { region: 'eu' },
    });

    await patchProvider(admin, provider, {
      configSchema: {
        type: 'object',
        properties: { region: { type: 'string', enum: ['eu', 'us', 'asia'] }, project: { type: 'string', pattern: '^p-' } },
        required: ['project'],
        additionalProperties: false,
      },
    });
    try {
      // A change that does not save the config (a label, deactivating the key) is not held up by the new schema…
      expect((await patchCredential(owner, created.credentialId, { label: 'renamed', isActive: false })).label).toBe('renamed');
      // …a saved config must fit it.
      const missing = patchCredential(owner, created.credentialId, { config: { region: 'asia' } });
      await expect(missing).rejects.toMatchObject({
        status: 400,
        fieldErrors: [{ path: 'config.project', message: 'Is required' }],
      });
      const fixed = await patchCredential(owner, created.credentialId, { config: { region: 'asia', project: 'p-1' } });
      expect(fixed.config).toEqual({ region: 'asia', project: 'p-1' });
      const another = createCredential(owner, {
        label: 'y',
        providerSlug: provider,
        key: secret(),
        config: { region: 'us', project: 'x' },
      });
      await expect(another).rejects.toMatchObject({
        status: 400,
        fieldErrors: [{ path: 'config.project', message: 'Must match ^p-' }],
      });
    } finally {
      await patchProvider(admin, provider, {
        configSchema: {
          type: 'object',
          properties: { region: { type: 'string', enum: ['eu', 'us'] } },
          additionalProperties: false,
        },
      });
    }
  });
});

describe('defaults', () => {
  it('stay one per owner and provider when keys are added concurrently', async () => {
    const owner = orgOwnerOf(newOrgId());
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        createCredential(owner, { label: `k${i}`, providerSlug: provider, key: secret(), isDefault: true }),
      ),
    );
    const { items } = await listCredentials(owner, {});
    expect(items).toHaveLength(6);
    const defaults = items.filter((c) => c.isDefault);
    expect(defaults).toHaveLength(1);
    expect(created.map((c) => c.credentialId)).toContain(defaults[0]!.credentialId);
    expect(created.filter((c) => c.isDefault).map((c) => c.credentialId)).toContain(defaults[0]!.credentialId);
  });

  it('go to the first of two creations told to be the default from the same read; the other lands and says it is not', async () => {
    for (const existing of [false, true]) {
      const owner = orgOwnerOf(newOrgId());
      if (existing) await createCredential(owner, { label: 'old', providerSlug: provider, key: secret() });
      // Both creations read the defaults before either writes (as concurrent requests do).
      const staleRead = await transactGet<any>(creationReads(owner.key) as never);
      const first = await createCredential(owner, { label: 'first', providerSlug: provider, key: secret(), isDefault: true }, [
        ...staleRead,
      ] as never);
      const second = await createCredential(owner, { label: 'second', providerSlug: provider, key: secret(), isDefault: true }, [
        ...staleRead,
      ] as never);
      expect(first.isDefault, `existing default: ${existing}`).toBe(true);
      expect(second.isDefault, `existing default: ${existing}`).toBe(false);
      const { items } = await listCredentials(owner, {});
      expect(items.filter((c) => c.isDefault).map((c) => c.credentialId)).toEqual([first.credentialId]);
      expect(items.map((c) => c.label).sort()).toEqual(existing ? ['first', 'old', 'second'] : ['first', 'second']);
    }
  });
});

describe('defaults of different providers', () => {
  it('change at the same moment without a conflict: each is its own slot of the owner’s defaults', async () => {
    const slugs = [uniqueSlug('slot'), uniqueSlug('slot'), uniqueSlug('slot'), uniqueSlug('slot')];
    for (const slug of slugs) await saveKeyedProvider(admin, slug);
    const owner = orgOwnerOf(newOrgId());
    const key = (i: number, extra: { isDefault?: boolean } = {}) =>
      createCredential(owner, { label: `k${i}`, providerSlug: slugs[i]!, key: secret(), ...extra });
    // The first key of a provider is its default; the one for slot 3 is told not to be.
    const [zero, one, three] = [await key(0), await key(1), await key(3, { isDefault: false })];
    expect([zero.isDefault, one.isDefault, three.isDefault]).toEqual([true, true, false]);

    // Four changes of four providers' defaults, read and written at the same time.
    const [unset, , created, set] = await Promise.all([
      patchCredential(owner, zero.credentialId, { isDefault: false }),
      deleteCredentialOf(owner, one.credentialId),
      key(2, { isDefault: true }),
      patchCredential(owner, three.credentialId, { isDefault: true }),
    ]);
    expect([unset.isDefault, created.isDefault, set.isDefault]).toEqual([false, true, true]);
    const { items } = await listCredentials(owner, {});
    expect(
      items
        .filter((c) => c.isDefault)
        .map((c) => c.label)
        .sort(),
    ).toEqual(['k2', 'k3']);
  });
});

describe('a key of the local model', () => {
  it('is refused, on a credential created with one or given one: the local model calls no one', async () => {
    const owner = orgOwnerOf(newOrgId());
    const refused = createCredential(owner, { label: 'Local', providerSlug: 'local', key: secret() });
    await expect(refused).rejects.toMatchObject({ status: 400, fieldErrors: [{ path: 'key' }] });
    const keyless = await createCredential(owner, { label: 'Local', providerSlug: 'local' });
    const given = patchCredential(owner, keyless.credentialId, { key: secret() });
    await expect(given).rejects.toMatchObject({ status: 400, fieldErrors: [{ path: 'key' }] });
  });

  it('stored before that, is no own key: under BYOK and HYBRID the platform runs the call', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    const created = await createCredential(owner, { label: 'Local', providerSlug: 'local' });
    // A key stored when the local model still took one, as createCredential stored it.
    const context = { purpose: 'provider-credential', owner: owner.key, credentialId: created.credentialId };
    const keyCipher = await encryptSecret(secret(), context);
    await hubDb.credential
      .patch({ owner: owner.key, credentialId: created.credentialId })
      .set({ keyCipher, keyLast4: 'olde', updatedAt: new Date().toISOString() })
      .go();
    forgetSnapshot(owner.key);
    for (const apiKeyStrategy of ['BYOK', 'HYBRID'] as const) {
      const plan = await resolveRoute({ orgId, requestedModel: 'local-chat', type: 'TEXT', planId: 'free', apiKeyStrategy });
      expect(
        plan.candidates.map((c) => c.keySource),
        apiKeyStrategy,
      ).toEqual(['platform']);
    }
    // Such a credential can still be changed in what needs no key.
    await expect(patchCredential(owner, created.credentialId, { label: 'Renamed' })).resolves.toMatchObject({ hasKey: true });
  });
});

describe('a key deleted as it is changed', () => {
  it('is deleted once of two deletions at once (the other a 404), and never under a change it did not read (409)', async () => {
    for (let i = 0; i < 6; i++) {
      const owner = orgOwnerOf(newOrgId());
      const { credentialId } = await createCredential(owner, { label: 'Twice', providerSlug: provider, key: secret() });
      const statuses = await Promise.all([
        statusOf(deleteCredentialOf(owner, credentialId)),
        statusOf(deleteCredentialOf(owner, credentialId)),
      ]);
      expect(statuses.sort(), `iteration ${i}`).toEqual([200, 404]);
    }
    for (let i = 0; i < 6; i++) {
      const owner = orgOwnerOf(newOrgId());
      const first = await createCredential(owner, { label: 'First', providerSlug: provider, key: secret() });
      const { credentialId } = await createCredential(owner, { label: 'Contested', providerSlug: provider, key: secret() });
      const [patched, deleted] = await Promise.all([
        statusOf(patchCredential(owner, credentialId, { isDefault: true })),
        statusOf(deleteCredentialOf(owner, credentialId)),
      ]);
      const { items } = await listCredentials(owner, {});
      const defaults = items.filter((c) => c.isDefault).map((c) => c.credentialId);
      if (deleted === 200) {
        // Deleted after the change (it read it) or before it (the change then a 404): no default names it.
        expect(
          items.map((c) => c.credentialId),
          `iteration ${i}`,
        ).toEqual([first.credentialId]);
        expect(defaults, `iteration ${i}: ${patched}/${deleted}`).not.toContain(credentialId);
      } else {
        expect([patched, deleted], `iteration ${i}`).toEqual([200, 409]);
        expect(defaults).toEqual([credentialId]);
      }
    }
  });
});

describe('using a key', () => {
  it('counts provider calls against its daily quota with one conditional write, and refuses past it', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    const model = await textModel('quota-model', provider, 'quota-1', 'Quota', 1);
    const credential = await createCredential(owner, {
      label: 'Limited',
      providerSlug: provider,
      key: secret(),
      dailyQuota: 2,
      monthlyQuota: 100,
    });
    const plan = await resolveRoute({ orgId, requestedModel: model, type: 'TEXT', planId: 'free', apiKeyStrategy: 'BYOK' });
    const candidate = plan.candidates[0]!;
    expect(candidate.credentialId).toBe(credential.credentialId);
    // The three calls on one day: the quota counts per UTC day, and the test may run across midnight.
    const now = new Date();
    await consumeCredentialQuota(candidate, now);
    await consumeCredentialQuota(candidate, now);
    const refused = consumeCredentialQuota(candidate, now);
    await expect(refused).rejects.toMatchObject({ status: 429, headers: { 'x-ratelimit-limit': '2' } });
    // The last use is recorded (at most once a minute).
    expect((await getCredential(owner, credential.credentialId)).lastUsedAt).toBeDefined();
    // A call with no credential (Bedrock on the platform's IAM role) has nothing to count.
    await expect(consumeCredentialQuota({})).resolves.toBeUndefined();
  });

  it('counts the calls through a platform key like an own key’s; a key without a quota costs no request a call', async () => {
    const platformProvider = uniqueSlug('platform-keys');
    await saveKeyedProvider(admin, platformProvider);
    const model = await textModel('platform-quota-model', platformProvider, 'platform-quota-1', 'Platform quota', 1);
    const credential = await createCredential(admin, {
      label: 'Platform',
      providerSlug: platformProvider,
      key: secret(),
      dailyQuota: 1,
    });
    try {
      const request = {
        orgId: newOrgId(),
        requestedModel: model,
        type: 'TEXT',
        planId: 'free',
        apiKeyStrategy: 'PLATFORM',
      } as const;
      const route = async () => (await resolveRoute(request)).candidates[0]!;
      const candidate = await route();
      expect(candidate).toMatchObject({ keySource: 'platform', credentialId: credential.credentialId });
      const now = new Date();
      await consumeCredentialQuota(candidate, now);
      await expect(consumeCredentialQuota(candidate, now)).rejects.toMatchObject({ status: 429 });

      // Without a quota: nothing to count, and the last use was recorded within the minute.
      await patchCredential(admin, credential.credentialId, { dailyQuota: null });
      const unlimited = await route();
      const { requests } = await countRequests(() => consumeCredentialQuota(unlimited, now));
      expect(requests).toEqual([]);
    } finally {
      await deleteCredentialOf(admin, credential.credentialId);
    }
  });

  it('is still counted after thousands of other keys were routed since its call was: the least recently routed go first', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    const model = await textModel('busy-model', provider, 'busy-1', 'Busy', 5);
    const credential = await createCredential(owner, { label: 'Busy', providerSlug: provider, key: secret(), dailyQuota: 1 });
    const keyProvider = (await providerCatalogue()).get(provider)!;
    // Other keys routed through by this process (key-less items: no KMS), before and after this call's.
    const others = (n: number, from: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          credentialTarget(
            { credentialId: `pc_other${from + i}`, owner: 'org#other', providerSlug: provider } as CredentialItem,
            keyProvider,
            'busy-1',
          ),
        ),
      );
    await others(2, 0);
    const plan = await resolveRoute({ orgId, requestedModel: model, type: 'TEXT', planId: 'free', apiKeyStrategy: 'BYOK' });
    const candidate = plan.candidates[0]!;
    expect(candidate.credentialId).toBe(credential.credentialId);
    await others(9_998, 2); // the process now knows more keys than it keeps
    await consumeCredentialQuota(candidate);
    await expect(consumeCredentialQuota(candidate)).rejects.toMatchObject({ status: 429 });
  });

  it('refuses a key past its monthly quota, with no daily quota, until the month ends', async () => {
    const orgId = newOrgId();
    const owner = orgOwnerOf(orgId);
    // Dearer than `quota-1`, which a test below expects to be this provider's cheapest model.
    const model = await textModel('monthly-model', provider, 'monthly-1', 'Monthly', 2);
    const credential = await createCredential(owner, {
      label: 'Monthly',
      providerSlug: provider,
      key: secret(),
      monthlyQuota: 1,
    });
    const plan = await resolveRoute({ orgId, requestedModel: model, type: 'TEXT', planId: 'free', apiKeyStrategy: 'BYOK' });
    const candidate = plan.candidates[0]!;
    expect(candidate.credentialId).toBe(credential.credentialId);
    // Both uses at one instant in the middle of a month, far from its end and from any day's:
    // the refusal must send the caller to the month's end, not the day's.
    const now = new Date('2031-01-15T12:00:00.000Z');
    const monthEnd = Date.parse('2031-02-01T00:00:00.000Z');
    await consumeCredentialQuota(candidate, now);
    await expect(consumeCredentialQuota(candidate, now)).rejects.toMatchObject({
      status: 429,
      message: expect.stringContaining('monthly limit of 1'),
      headers: {
        'retry-after': String((monthEnd - now.getTime()) / 1000),
        'x-ratelimit-limit': '1',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(monthEnd / 1000),
      },
    });
    // Another month starts with the quota whole again.
    await expect(consumeCredentialQuota(candidate, new Date(monthEnd))).resolves.toBeUndefined();
  });

  it('gives the test route a decrypted target, and stores the outcome without the key', async () => {
    const owner = orgOwnerOf(newOrgId());
    const key = secret();
    const created = await createCredential(owner, {
      label: 'To test',
      providerSlug: 'openai',
      key,
      defaultModel: 'gpt-4o-mini',
      config: { organization: 'org-acme' },
    });
    const { credential, provider: openai, target, operation } = await getCredentialForCall(owner, created.credentialId);
    expect(credential).toMatchObject({ credentialId: created.credentialId, providerSlug: 'openai' });
    expect(openai.adapter).toBe('openai');
    expect(operation).toBe('chat');
    expect(target).toEqual({
      adapter: 'openai',
      providerSlug: 'openai',
      providerModelId: 'gpt-4o-mini',
      apiKey: key,
      baseUrl: 'https://api.openai.com/v1',
      config: { organization: 'org-acme' },
    });
    const failed = await recordCredentialTest(owner, created.credentialId, {
      ok: false,
      responseTimeMs: 812.4,
      model: 'gpt-4o-mini',
      operation: 'chat',
      error: { type: 'auth', message: `401 Incorrect API key provided: ${key}`, status: 401 },
    });
    expect(failed).toMatchObject({ ok: false, responseTimeMs: 812, error: { type: 'auth', status: 401 } });
    expect(failed.error!.message).not.toContain(key);
    const stored = await getCredential(owner, created.credentialId);
    expect(stored.lastTest).toEqual(failed);
    expect(JSON.stringify(await storedItem(owner.key, created.credentialId))).not.toContain(key);
    expect(
      await statusOf(
        recordCredentialTest(owner, 'pcr_01jq0000000000000000000000', {
          ok: true,
          responseTimeMs: 1,
          model: 'gpt-4o-mini',
          operation: 'chat',
        }),
      ),
    ).toBe(404);
    expect(await statusOf(getCredentialForCall(orgOwnerOf(newOrgId()), created.credentialId))).toBe(404);
  });

  it('tests a key on the provider’s cheapest chat model when the credential names none', async () => {
    const owner = orgOwnerOf(newOrgId());
    const created = await createCredential(owner, { label: 'Bedrock key', providerSlug: 'bedrock' });
    const { target, operation } = await getCredentialForCall(owner, created.credentialId);
    expect(operation).toBe('chat');
    expect(target).toEqual({ adapter: 'bedrock', providerSlug: 'bedrock', providerModelId: 'amazon.nova-micro-v1:0' });
  });

  it('tests a key named for a model that only embeds or only draws with that kind of call', async () => {
    const owner = orgOwnerOf(newOrgId());
    const forModel = async (defaultModel: string) => {
      const created = await createCredential(owner, { label: defaultModel, providerSlug: 'openai', key: secret(), defaultModel });
      return getCredentialForCall(owner, created.credentialId);
    };
    expect((await forModel('text-embedding-3-small')).operation).toBe('embeddings');
    expect((await forModel('my-fine-tune')).operation).toBe('chat');
    const images = await createCredential(owner, {
      label: 'Canvas',
      providerSlug: 'bedrock',
      defaultModel: 'amazon.nova-canvas-v1:0',
    });
    expect((await getCredentialForCall(owner, images.credentialId)).operation).toBe('images');
  });

  it('cannot test a key of a provider without catalogue models unless it names a model', async () => {
    const uncatalogued = uniqueSlug('uncatalogued');
    await saveKeyedProvider(admin, uncatalogued);
    const owner = orgOwnerOf(newOrgId());
    const bare = await createCredential(owner, { label: 'Bare', providerSlug: uncatalogued, key: secret() });
    expect(await statusOf(getCredentialForCall(owner, bare.credentialId))).toBe(422);
    const named = await createCredential(owner, {
      label: 'Named',
      providerSlug: uncatalogued,
      key: secret(),
      defaultModel: 'm-1',
    });
    expect((await getCredentialForCall(owner, named.credentialId)).target.providerModelId).toBe('m-1');
  });

  it('tests a key without a default model with its provider’s cheapest model in the catalogue as admins edited it', async () => {
    // The quota test above added `quota-1` to this provider's catalogue; none is built in.
    const owner = orgOwnerOf(newOrgId());
    const bare = await createCredential(owner, { label: 'Bare', providerSlug: provider, key: secret() });
    const chosen = await getCredentialForCall(owner, bare.credentialId);
    expect(chosen).toMatchObject({ operation: 'chat', target: { providerModelId: 'quota-1' } });
  });
});
