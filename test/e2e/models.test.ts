import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  api,
  clearOfPeriodEnd,
  createTeam,
  errorPaths,
  asPlatformAdmin,
  signUpPlatformAdmin,
  signUpUser,
  type SignedInUser,
} from '../helpers/api.ts';
import { expectAnsweredAsStored } from '../helpers/as-stored.ts';
import { gateway, usageOf } from '../helpers/gateway.ts';

let owner: SignedInUser;
let editor: SignedInUser;
let viewer: SignedInUser;
let outsider: SignedInUser;
let admin: SignedInUser;
let secondAdmin: SignedInUser;
let orgId: string;

beforeAll(async () => {
  [owner, editor, viewer, outsider, admin, secondAdmin] = await Promise.all([
    signUpUser('models-owner'),
    signUpUser('models-editor'),
    signUpUser('models-viewer'),
    signUpUser('models-outsider'),
    signUpPlatformAdmin('models-admin'),
    signUpPlatformAdmin('models-admin2'),
  ]);
  ({ orgId } = await createTeam(owner, [
    { user: editor, role: 'editor' },
    { user: viewer, role: 'viewer' },
  ]));
});

const ids = (body: { items: Array<{ modelId: string }> }) => body.items.map((m) => m.modelId);
const customModel = (extra: Record<string, unknown> = {}) => ({
  providerSlug: 'openai',
  providerModelId: `ft:gpt-4o-mini:acme:${randomUUID().slice(0, 6)}`,
  name: 'Support bot',
  type: 'TEXT',
  pricing: { inputPerMTokMicros: 300_000, outputPerMTokMicros: 1_200_000 },
  ...extra,
});

/** A catalogue model served by the local provider. */
const catalogueModel = (extra: Record<string, unknown> = {}) => ({
  providerSlug: 'local',
  providerModelId: 'local-chat',
  name: 'Catalogue test model',
  type: 'TEXT',
  pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
  ...extra,
});

describe('the model catalogue', () => {
  it('lists real Bedrock models with their published prices, and the other providers’ and local ones', async () => {
    const res = await api('GET', '/v1/models', { token: owner.accessToken });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.items.map((m: { modelId: string }) => [m.modelId, m]));
    expect(byId['claude-3-haiku']).toMatchObject({
      kind: 'external',
      providerSlug: 'bedrock',
      providerModelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      type: 'TEXT',
      taskType: 'TextGeneration',
      pricing: { inputPerMTokMicros: 250_000, outputPerMTokMicros: 1_250_000 },
      aliases: ['default-chat'],
      isBuiltIn: true,
    });
    expect(byId['nova-micro'].pricing).toEqual({ inputPerMTokMicros: 35_000, outputPerMTokMicros: 140_000 });
    expect(byId['mistral-large'].providerModelId).toBe('mistral.mistral-large-2402-v1:0');
    expect(byId['titan-image-v2'].pricing.perImageMicros).toBe(10_000);
    expect(byId['nova-canvas']).toMatchObject({
      type: 'IMAGE',
      taskType: 'ImageGeneration',
      pricing: { perImageMicros: 40_000 },
    });
    expect(byId['gpt-4o-mini'].pricing).toEqual({ inputPerMTokMicros: 150_000, outputPerMTokMicros: 600_000 });
    expect(byId['gemini-1-5-flash'].pricing).toEqual({ inputPerMTokMicros: 75_000, outputPerMTokMicros: 300_000 });
    expect(byId['local-chat'].pricing.inputPerMTokMicros).toBeGreaterThan(0);
    expect(Object.keys(byId)).toEqual(expect.arrayContaining(['local-chat', 'local-embed', 'local-image', 'claude-3-5-haiku']));
  });

  it('filters by type, provider and capability', async () => {
    const images = await api('GET', '/v1/models?type=IMAGE', { token: owner.accessToken });
    expect(ids(images.body)).toEqual(expect.arrayContaining(['titan-image-v2', 'nova-canvas', 'local-image']));
    expect(images.body.items.every((m: { type: string }) => m.type === 'IMAGE')).toBe(true);
    const embeddings = await api('GET', '/v1/models?capability=embeddings&provider=bedrock', { token: owner.accessToken });
    expect(ids(embeddings.body)).toEqual(['titan-embed-text-v2']);
    expect((await api('GET', '/v1/models?type=SOUND', { token: owner.accessToken })).status).toBe(400);
    const one = await api('GET', '/v1/models/nova-pro', { token: owner.accessToken });
    expect(one.body).toMatchObject({ modelId: 'nova-pro', providerModelId: 'amazon.nova-pro-v1:0' });
    expect((await api('GET', '/v1/models/no-such-model', { token: owner.accessToken })).status).toBe(404);
    // A name every object has is no built-in model.
    expect((await api('GET', '/v1/models/constructor', { token: owner.accessToken })).status).toBe(404);
  });

  it('is edited by platform admins: new models, price changes, unique aliases, built-ins deactivated rather than deleted', async () => {
    const modelId = `test-${randomUUID().slice(0, 8)}`;
    const body = {
      providerSlug: 'bedrock',
      providerModelId: 'amazon.nova-premier-v1:0',
      name: 'Nova Premier',
      type: 'TEXT',
      pricing: { inputPerMTokMicros: 2_500_000, outputPerMTokMicros: 12_500_000 },
      aliases: [`${modelId}-alias`],
    };
    expect((await api('PUT', `/v1/admin/models/${modelId}`, { token: owner.accessToken, body })).status).toBe(403);
    const saved = await api('PUT', `/v1/admin/models/${modelId}`, { token: admin.accessToken, body });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      modelId,
      kind: 'external',
      status: 'Active',
      capabilities: ['chat', 'stream'],
      isBuiltIn: false,
    });

    const clash = await api('PATCH', `/v1/admin/models/${modelId}`, { token: admin.accessToken, body: { aliases: ['fast'] } });
    expect(clash.status).toBe(409);
    expect(clash.body.errors[0]).toMatchObject({ path: 'body.aliases', message: expect.stringContaining('nova-micro') });
    const unknownProvider = await api('PUT', `/v1/admin/models/${modelId}`, {
      token: admin.accessToken,
      body: { ...body, providerSlug: 'nobody' },
    });
    expect(unknownProvider.status).toBe(404);

    const repriced = await api('PATCH', `/v1/admin/models/${modelId}`, {
      token: admin.accessToken,
      body: { pricing: { inputPerMTokMicros: 2_000_000, outputPerMTokMicros: 10_000_000 } },
    });
    expect(repriced.body.pricing).toEqual({ inputPerMTokMicros: 2_000_000, outputPerMTokMicros: 10_000_000 });
    expect((await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken })).body.pricing.inputPerMTokMicros).toBe(
      2_000_000,
    );

    expect((await api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken })).status).toBe(204);
    expect((await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken })).status).toBe(404);

    // A built-in model is deactivated, and can be brought back.
    expect((await api('DELETE', '/v1/admin/models/llama3-1-8b', { token: admin.accessToken })).status).toBe(204);
    expect(ids((await api('GET', '/v1/models', { token: owner.accessToken })).body)).not.toContain('llama3-1-8b');
    const inactive = await api('GET', '/v1/models?status=Inactive', { token: owner.accessToken });
    expect(ids(inactive.body)).toContain('llama3-1-8b');
    const restored = await api('PATCH', '/v1/admin/models/llama3-1-8b', { token: admin.accessToken, body: { status: 'Active' } });
    expect(restored.body).toMatchObject({ status: 'Active', isBuiltIn: true, pricing: { inputPerMTokMicros: 220_000 } });
  });

  it('refuses a new model whose id is already another model’s alias, as it refuses an alias that is another model’s id', async () => {
    const first = `first-${randomUUID().slice(0, 8)}`;
    const alias = `shared-${randomUUID().slice(0, 8)}`;
    expect(
      (await api('PUT', `/v1/admin/models/${first}`, { token: admin.accessToken, body: catalogueModel({ aliases: [alias] }) }))
        .status,
    ).toBe(200);
    const second = `second-${randomUUID().slice(0, 8)}`;
    const aliasIsId = await api('PUT', `/v1/admin/models/${second}`, {
      token: admin.accessToken,
      body: catalogueModel({ aliases: [first] }),
    });
    expect(aliasIsId.status).toBe(409);
    // A model named by the alias would take every call naming it (an id is matched first): one
    // named by a built-in model's alias (nova-micro's `fast`) too.
    const idIsAlias = await api('PUT', `/v1/admin/models/${alias}`, { token: admin.accessToken, body: catalogueModel() });
    const idIsBuiltInAlias = await api('PUT', '/v1/admin/models/fast', { token: admin.accessToken, body: catalogueModel() });
    // Made by mistake, they would take other suites' calls: gone before anything is asserted.
    for (const [res, modelId] of [
      [idIsAlias, alias],
      [idIsBuiltInAlias, 'fast'],
    ] as const)
      if (res.status === 200) await api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken });
    expect(idIsAlias.status, JSON.stringify(idIsAlias.body)).toBe(409);
    expect(idIsAlias.body.errors).toEqual([{ path: 'params.modelId', message: `Already an alias of ${first}` }]);
    expect(idIsBuiltInAlias.status).toBe(409);
    expect(idIsBuiltInAlias.body.errors).toEqual([{ path: 'params.modelId', message: 'Already an alias of nova-micro' }]);
    expect((await api('GET', `/v1/models/${alias}`, { token: owner.accessToken })).status).toBe(404);
    expect((await api('DELETE', `/v1/admin/models/${first}`, { token: admin.accessToken })).status).toBe(204);
  });

  it('takes two admins’ concurrent edits of one model both, or answers one of them 409: neither is lost', async () => {
    let lost = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const modelId = `concurrent-${randomUUID().slice(0, 8)}`;
      expect((await api('PUT', `/v1/admin/models/${modelId}`, { token: admin.accessToken, body: catalogueModel() })).status).toBe(
        200,
      );
      const [repriced, renamed] = await Promise.all([
        api('PATCH', `/v1/admin/models/${modelId}`, {
          token: admin.accessToken,
          body: { pricing: { inputPerMTokMicros: 777, outputPerMTokMicros: 888 } },
        }),
        api('PATCH', `/v1/admin/models/${modelId}`, { token: secondAdmin.accessToken, body: { name: 'Renamed' } }),
      ]);
      for (const res of [repriced, renamed]) {
        expect([200, 409], JSON.stringify(res.body)).toContain(res.status);
        if (res.status === 409) expect(res.body.detail).toBe(`The model ${modelId} changed meanwhile; retry`);
      }
      // Refusing both would lose nothing and still be wrong: one of two concurrent edits always lands.
      expect([repriced.status, renamed.status], 'at least one edit answered 200').toContain(200);
      const now = (await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken })).body;
      if (repriced.status === 200 && now.pricing.inputPerMTokMicros !== 777) lost++;
      if (renamed.status === 200 && now.name !== 'Renamed') lost++;
      expect((await api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken })).status).toBe(204);
    }
    expect(lost, 'edits answered 200 and then overwritten').toBe(0);
  });

  it('never gives one alias to two models, even when both are given it at once', async () => {
    let duplicated = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const [one, two] = [`alias-one-${randomUUID().slice(0, 8)}`, `alias-two-${randomUUID().slice(0, 8)}`];
      const alias = `wanted-${randomUUID().slice(0, 8)}`;
      for (const modelId of [one, two])
        expect(
          (await api('PUT', `/v1/admin/models/${modelId}`, { token: admin.accessToken, body: catalogueModel() })).status,
        ).toBe(200);
      const answers = await Promise.all([
        api('PATCH', `/v1/admin/models/${one}`, { token: admin.accessToken, body: { aliases: [alias] } }),
        api('PATCH', `/v1/admin/models/${two}`, { token: secondAdmin.accessToken, body: { aliases: [alias] } }),
      ]);
      for (const res of answers) expect([200, 409], JSON.stringify(res.body)).toContain(res.status);
      if (answers.every((a) => a.status === 200)) duplicated++;
      const holders = (await api('GET', '/v1/models', { token: owner.accessToken })).body.items.filter(
        (m: { aliases: string[] }) => m.aliases.includes(alias),
      );
      expect(holders.length).toBeLessThanOrEqual(1);
      for (const modelId of [one, two])
        expect((await api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken })).status).toBe(204);
    }
    expect(duplicated, 'both models answered 200 with the alias').toBe(0);
    // A removed model's aliases are free again.
    const [first, next] = [`freed-${randomUUID().slice(0, 8)}`, `taker-${randomUUID().slice(0, 8)}`];
    const alias = `freed-alias-${randomUUID().slice(0, 8)}`;
    expect(
      (await api('PUT', `/v1/admin/models/${first}`, { token: admin.accessToken, body: catalogueModel({ aliases: [alias] }) }))
        .status,
    ).toBe(200);
    expect((await api('PATCH', `/v1/admin/models/${first}`, { token: admin.accessToken, body: { aliases: [] } })).status).toBe(
      200,
    );
    expect(
      (await api('PUT', `/v1/admin/models/${next}`, { token: admin.accessToken, body: catalogueModel({ aliases: [alias] }) }))
        .status,
    ).toBe(200);
    for (const modelId of [first, next])
      expect((await api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken })).status).toBe(204);
  });

  it('leaves out the models of a provider an admin removed, here and on /openai/v1/models, unless asked for Inactive ones, which they say they are', async () => {
    const slug = `gone${randomUUID().slice(0, 6)}`;
    // The provider catalogue is one item: another suite's admin changing it at the same time makes this a 409 to retry.
    const saved = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${slug}`, {
      displayName: 'Soon gone',
      adapter: 'local',
      requiresApiKey: false,
      group: { name: 'Gone' },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const modelId = `gone-${randomUUID().slice(0, 8)}`;
    const model = await api('PUT', `/v1/admin/models/${modelId}`, {
      token: admin.accessToken,
      body: {
        providerSlug: slug,
        providerModelId: 'local-chat',
        name: 'Orphan',
        type: 'TEXT',
        pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
      },
    });
    expect(model.status, JSON.stringify(model.body)).toBe(200);
    const custom = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: customModel({ providerSlug: slug }),
    });
    expect(custom.status, JSON.stringify(custom.body)).toBe(201);
    const customId = custom.body.modelId as string;
    expect(ids((await api('GET', `/v1/models?provider=${slug}`, { token: owner.accessToken })).body)).toEqual([modelId]);
    expect((await gateway('/models', { token: owner.accessToken })).body.data.map((m: { id: string }) => m.id)).toContain(
      modelId,
    );

    expect((await asPlatformAdmin(admin, 'DELETE', `/v1/admin/providers/${slug}`)).status).toBe(204);
    expect(ids((await api('GET', `/v1/models?provider=${slug}`, { token: owner.accessToken })).body)).toEqual([]);
    expect(ids((await api('GET', '/v1/models?status=Active', { token: owner.accessToken })).body)).not.toContain(modelId);
    expect(ids((await api('GET', '/v1/models?status=Inactive', { token: owner.accessToken })).body)).toContain(modelId);
    // Listed as Inactive, it says so, here and read alone: it cannot be called.
    const inactive = await api('GET', `/v1/models?status=Inactive&provider=${slug}`, { token: owner.accessToken });
    expect(inactive.body.items.map((m: { modelId: string; status: string }) => [m.modelId, m.status])).toEqual([
      [modelId, 'Inactive'],
    ]);
    expect((await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken })).body).toMatchObject({ status: 'Inactive' });
    // The organization's own model of that provider says so on its own routes too.
    expect((await api('GET', `/v1/orgs/${orgId}/models/${customId}`, { token: owner.accessToken })).body).toMatchObject({
      status: 'Inactive',
    });
    const own = await api('GET', `/v1/orgs/${orgId}/models?limit=100`, { token: owner.accessToken });
    expect(own.body.items.find((m: { modelId: string }) => m.modelId === customId)).toMatchObject({ status: 'Inactive' });
    const offered = await gateway('/models', { token: owner.accessToken });
    expect(offered.status).toBe(200);
    expect(offered.body.data.map((m: { id: string }) => m.id)).not.toContain(modelId);
  });

  it('come in pages (limit, cursor) like every list; a cursor of other filters or another organization is a 400', async () => {
    const whole = async () => ids((await api('GET', `/v1/models?orgId=${orgId}`, { token: owner.accessToken })).body);
    const walk = async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `orgId=${orgId}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await api('GET', `/v1/models?${query}`, { token: owner.accessToken });
        expect(page.status, JSON.stringify(page.body)).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...ids(page.body));
        cursor = page.body.nextCursor;
      } while (cursor);
      return seen;
    };
    // Other suites' admins add and remove catalogue models meanwhile (a walk can see one that the
    // whole list read before it could not): walked again, up to a few times, until the whole list
    // read before and after the walk are the same and the pages hold exactly that.
    const same = (a: string[], b: string[]) => a.join() === b.join();
    let [before, seen, after] = [await whole(), await walk(), await whole()];
    for (let attempt = 1; attempt < 5 && !(same(before, after) && same(seen, before)); attempt++)
      [before, seen, after] = [after, await walk(), await whole()];
    expect(after).toEqual(before);
    expect(seen).toEqual(before);
    expect(new Set(seen).size).toBe(seen.length);

    const first = await api('GET', '/v1/models?type=TEXT&limit=2', { token: owner.accessToken });
    expect(first.body.items).toHaveLength(2);
    const next = encodeURIComponent(first.body.nextCursor);
    const second = await api('GET', `/v1/models?type=TEXT&limit=2&cursor=${next}`, { token: owner.accessToken });
    expect(second.status).toBe(200);
    expect(ids(second.body)).not.toContain(ids(first.body)[0]);
    for (const query of [`type=IMAGE&cursor=${next}`, `orgId=${orgId}&type=TEXT&cursor=${next}`, 'cursor=garbage', 'limit=101']) {
      const refused = await api('GET', `/v1/models?${query}`, { token: owner.accessToken });
      expect(refused.status, query).toBe(400);
      expect(errorPaths(refused.body), query).toEqual([query.startsWith('limit') ? 'query.limit' : 'query.cursor']);
    }
  });

  it('offer on /openai/v1/models every model that can be called: a Deprecated one too, not an Inactive one', async () => {
    const { orgId: team } = await createTeam(owner);
    const make = async (status: string) =>
      (await api('POST', `/v1/orgs/${team}/models`, { token: owner.accessToken, body: customModel({ status }) })).body
        .modelId as string;
    const [deprecated, inactive] = [await make('Deprecated'), await make('Inactive')];
    const offered = await gateway('/models', { token: owner.accessToken }, undefined, { 'openai-organization': team });
    expect(offered.status).toBe(200);
    const offeredIds = offered.body.data.map((m: { id: string }) => m.id);
    expect(offeredIds).toContain(deprecated);
    expect(offeredIds).not.toContain(inactive);
    expect(offeredIds).toContain('local-chat');
  });
});

describe('custom models of an organization', () => {
  it('are created by those who manage models, read by editors, and listed with the catalogue for the organization', async () => {
    expect((await api('POST', `/v1/orgs/${orgId}/models`, { token: editor.accessToken, body: customModel() })).status).toBe(403);
    const created = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: customModel({ aliases: ['support'], tags: ['internal'], defaults: { temperature: 0.2, systemPrompt: 'Be kind.' } }),
    });
    expect(created.status).toBe(201);
    const modelId = created.body.modelId as string;
    expect(modelId).toMatch(/^mdl_/);
    expect(created.body).toMatchObject({
      kind: 'custom',
      orgId,
      createdBy: owner.userId,
      status: 'Active',
      aliases: ['support'],
    });

    const list = await api('GET', `/v1/orgs/${orgId}/models`, { token: editor.accessToken });
    expect(ids(list.body)).toContain(modelId);
    const one = await api('GET', `/v1/orgs/${orgId}/models/${modelId}`, { token: editor.accessToken });
    expect(one.body).toMatchObject({ modelId, defaults: { temperature: 0.2, systemPrompt: 'Be kind.' } });
    const withOrg = await api('GET', `/v1/models?orgId=${orgId}&tag=internal`, { token: editor.accessToken });
    expect(ids(withOrg.body)).toEqual([modelId]);
    expect(ids((await api('GET', '/v1/models', { token: editor.accessToken })).body)).not.toContain(modelId);
    expect((await api('GET', `/v1/models/${modelId}?orgId=${orgId}`, { token: editor.accessToken })).status).toBe(200);
    expect((await api('GET', `/v1/models/${modelId}`, { token: editor.accessToken })).status).toBe(404);
    // A viewer's role does not grant models:read; an outsider is not told the organization exists.
    expect((await api('GET', `/v1/orgs/${orgId}/models`, { token: viewer.accessToken })).status).toBe(403);
    expect((await api('GET', `/v1/models?orgId=${orgId}`, { token: viewer.accessToken })).status).toBe(403);
    expect((await api('GET', `/v1/models?orgId=${orgId}`, { token: outsider.accessToken })).status).toBe(404);
  });

  it('keep their aliases unique in the organization, and are changed and deleted', async () => {
    const alias = `bot-${randomUUID().slice(0, 6)}`;
    const first = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: customModel({ aliases: [alias] }),
    });
    const second = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: customModel({ aliases: [alias] }),
    });
    expect(second.status).toBe(409);
    expect(errorPaths(second.body)).toEqual(['body.aliases']);
    // Another organization may use the same alias.
    const { orgId: other } = await createTeam(owner);
    expect(
      (await api('POST', `/v1/orgs/${other}/models`, { token: owner.accessToken, body: customModel({ aliases: [alias] }) }))
        .status,
    ).toBe(201);

    const modelId = first.body.modelId as string;
    const renamed = await api('PATCH', `/v1/orgs/${orgId}/models/${modelId}`, {
      token: owner.accessToken,
      body: { name: 'Support bot v2', aliases: [`${alias}-v2`], status: 'Deprecated' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      name: 'Support bot v2',
      aliases: [`${alias}-v2`],
      status: 'Deprecated',
      kind: 'custom',
    });
    // The old alias is free again.
    expect(
      (await api('POST', `/v1/orgs/${orgId}/models`, { token: owner.accessToken, body: customModel({ aliases: [alias] }) }))
        .status,
    ).toBe(201);

    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/models/${modelId}`, { token: editor.accessToken, body: { name: 'x' } })).status,
    ).toBe(403);
    expect((await api('DELETE', `/v1/orgs/${orgId}/models/${modelId}`, { token: owner.accessToken })).status).toBe(204);
    expect((await api('GET', `/v1/orgs/${orgId}/models/${modelId}`, { token: owner.accessToken })).status).toBe(404);
    expect((await api('DELETE', `/v1/orgs/${orgId}/models/${modelId}`, { token: owner.accessToken })).status).toBe(404);
  });

  it('cannot be deleted while a routing rule sends calls to them, and need a known, active provider', async () => {
    const created = await api('POST', `/v1/orgs/${orgId}/models`, { token: owner.accessToken, body: customModel() });
    const modelId = created.body.modelId as string;
    const rule = await api('POST', `/v1/orgs/${orgId}/routing-rules`, {
      token: owner.accessToken,
      body: { name: 'To the bot', priority: 5, modelType: 'TEXT', targets: [{ modelId }] },
    });
    expect(rule.status).toBe(201);
    const refused = await api('DELETE', `/v1/orgs/${orgId}/models/${modelId}`, { token: owner.accessToken });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(rule.body.ruleId);
    await api('DELETE', `/v1/orgs/${orgId}/routing-rules/${rule.body.ruleId}`, { token: owner.accessToken });
    expect((await api('DELETE', `/v1/orgs/${orgId}/models/${modelId}`, { token: owner.accessToken })).status).toBe(204);

    const unknown = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: customModel({ providerSlug: 'nobody' }),
    });
    expect(unknown.status).toBe(404);
    expect(errorPaths(unknown.body)).toEqual(['body.providerSlug']);
  });

  it('refuse an alias that is a catalogue model’s id: the id is matched first, the alias would never reach them', async () => {
    const refused = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: customModel({ aliases: ['mine-ok', 'local-embed'] }),
    });
    expect(refused.status).toBe(409);
    expect(refused.body.errors).toEqual([{ path: 'body.aliases', message: expect.stringContaining('local-embed') }]);
    const created = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: customModel({ aliases: [`mine-${randomUUID().slice(0, 6)}`] }),
    });
    expect(created.status).toBe(201);
    const patched = await api('PATCH', `/v1/orgs/${orgId}/models/${created.body.modelId}`, {
      token: owner.accessToken,
      body: { aliases: ['claude-3-haiku'] },
    });
    expect(patched.status).toBe(409);
    expect(errorPaths(patched.body)).toEqual(['body.aliases']);
    // A model an admin added to the catalogue too.
    const catalogueId = `cat-${randomUUID().slice(0, 8)}`;
    const added = await api('PUT', `/v1/admin/models/${catalogueId}`, {
      token: admin.accessToken,
      body: {
        providerSlug: 'local',
        providerModelId: 'local-chat',
        name: 'Added',
        type: 'TEXT',
        pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
      },
    });
    expect(added.status).toBe(200);
    const clash = await api('PATCH', `/v1/orgs/${orgId}/models/${created.body.modelId}`, {
      token: owner.accessToken,
      body: { aliases: [catalogueId] },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.errors).toEqual([{ path: 'body.aliases', message: `${catalogueId} is the id of a catalogue model` }]);
    expect(
      (await api('GET', `/v1/orgs/${orgId}/models/${created.body.modelId}`, { token: owner.accessToken })).body.aliases,
    ).toEqual(created.body.aliases);
  });
});

describe('favourite models', () => {
  it('are per user: catalogue and custom models, each shown as it is now, gone from view once the member leaves', async () => {
    const member = await signUpUser('models-fan');
    const { orgId: team } = await createTeam(owner);
    await addMember(owner, team, member, 'editor');
    const custom = await api('POST', `/v1/orgs/${team}/models`, {
      token: owner.accessToken,
      body: customModel({ name: 'Team bot' }),
    });
    const modelId = custom.body.modelId as string;

    expect((await api('PUT', '/v1/me/favorite-models/nova-lite', { token: member.accessToken })).status).toBe(200);
    expect((await api('PUT', `/v1/me/favorite-models/${modelId}`, { token: member.accessToken })).status).toBe(404);
    const added = await api('PUT', `/v1/me/favorite-models/${modelId}?orgId=${team}`, { token: member.accessToken });
    expect(added.body).toMatchObject({ modelId, orgId: team, model: { name: 'Team bot' } });
    // Idempotent.
    expect((await api('PUT', '/v1/me/favorite-models/nova-lite', { token: member.accessToken })).status).toBe(200);
    expect((await api('PUT', '/v1/me/favorite-models/no-such-model', { token: member.accessToken })).status).toBe(404);

    const list = await api('GET', '/v1/me/favorite-models', { token: member.accessToken });
    expect(list.body.items.map((f: { modelId: string }) => f.modelId).sort()).toEqual([modelId, 'nova-lite'].sort());
    expect(list.body.items.find((f: { modelId: string }) => f.modelId === 'nova-lite').model).toMatchObject({
      name: 'Amazon Nova Lite',
    });
    // Nobody else sees them.
    expect((await api('GET', '/v1/me/favorite-models', { token: owner.accessToken })).body.items).toEqual([]);

    await api('PATCH', `/v1/orgs/${team}/models/${modelId}`, { token: owner.accessToken, body: { name: 'Team bot 2' } });
    const renamed = await api('GET', '/v1/me/favorite-models', { token: member.accessToken });
    expect(renamed.body.items.find((f: { modelId: string }) => f.modelId === modelId).model.name).toBe('Team bot 2');

    expect((await api('DELETE', `/v1/me/orgs/${team}`, { token: member.accessToken })).status).toBe(204);
    const afterLeaving = await api('GET', '/v1/me/favorite-models', { token: member.accessToken });
    expect(afterLeaving.body.items.find((f: { modelId: string }) => f.modelId === modelId).model).toBeNull();

    expect((await api('DELETE', '/v1/me/favorite-models/nova-lite', { token: member.accessToken })).status).toBe(204);
    expect((await api('DELETE', '/v1/me/favorite-models/nova-lite', { token: member.accessToken })).status).toBe(404);
    expect((await api('GET', '/v1/me/favorite-models?limit=101', { token: member.accessToken })).status).toBe(400);
  });

  it('show no model (null) to a member whose role no longer grants models:read: demoted, or their custom role changed', async () => {
    const [demoted, customised] = await Promise.all([signUpUser('models-fan-demoted'), signUpUser('models-fan-custom')]);
    const { orgId: team } = await createTeam(owner);
    const role = await api('POST', `/v1/orgs/${team}/roles`, {
      token: owner.accessToken,
      body: { name: 'Model reader', permissions: ['org:read', 'models:read'] },
    });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    await addMember(owner, team, demoted, 'editor');
    await addMember(owner, team, customised, role.body.roleId);
    const custom = await api('POST', `/v1/orgs/${team}/models`, {
      token: owner.accessToken,
      body: customModel({ name: 'Confidential bot', defaults: { systemPrompt: 'v1' } }),
    });
    const modelId = custom.body.modelId as string;
    const favourite = async (member: SignedInUser) =>
      (await api('GET', '/v1/me/favorite-models', { token: member.accessToken })).body.items.find(
        (f: { modelId: string }) => f.modelId === modelId,
      );
    for (const member of [demoted, customised]) {
      expect((await api('PUT', `/v1/me/favorite-models/${modelId}?orgId=${team}`, { token: member.accessToken })).status).toBe(
        200,
      );
      expect((await favourite(member)).model).toMatchObject({ name: 'Confidential bot' });
    }

    const demotion = await api('PATCH', `/v1/orgs/${team}/members/${demoted.userId}`, {
      token: owner.accessToken,
      body: { role: 'viewer' },
    });
    expect(demotion.status).toBe(200);
    const narrowed = await api('PATCH', `/v1/orgs/${team}/roles/${role.body.roleId}`, {
      token: owner.accessToken,
      body: { name: 'Model reader', permissions: ['org:read'] },
    });
    expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
    await api('PATCH', `/v1/orgs/${team}/models/${modelId}`, {
      token: owner.accessToken,
      body: { defaults: { systemPrompt: 'v2, confidential' } },
    });
    for (const member of [demoted, customised]) {
      // The model's own routes refuse them; their favourites show it no more.
      expect((await api('GET', `/v1/models/${modelId}?orgId=${team}`, { token: member.accessToken })).status).toBe(403);
      expect(await favourite(member)).toEqual({ modelId, orgId: team, addedAt: expect.any(String), model: null });
    }
  });

  it('of an organization deleted since show no model (null), and the list takes limit 1–100 like every list', async () => {
    const member = await signUpUser('models-fan-deleted');
    const { orgId: team } = await createTeam(owner);
    await addMember(owner, team, member, 'editor');
    const custom = await api('POST', `/v1/orgs/${team}/models`, {
      token: owner.accessToken,
      body: customModel({ name: 'Gone bot' }),
    });
    const modelId = custom.body.modelId as string;
    expect((await api('PUT', `/v1/me/favorite-models/${modelId}?orgId=${team}`, { token: member.accessToken })).status).toBe(200);
    expect((await api('DELETE', `/v1/orgs/${team}`, { token: owner.accessToken })).status).toBe(204);

    const list = await api('GET', '/v1/me/favorite-models?limit=100', { token: member.accessToken });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.items).toEqual([{ modelId, orgId: team, addedAt: expect.any(String), model: null }]);
  });
});

describe('model metrics', () => {
  const metrics = (modelId: string, token: string, org?: string) =>
    api('GET', `/v1/models/${modelId}/metrics${org ? `?orgId=${org}` : ''}`, { token });

  it('are a 404 for an id that is neither a catalogue model nor one of the organization’s, not a page of zeros', async () => {
    const { orgId: other } = await createTeam(outsider);
    const theirs = await api('POST', `/v1/orgs/${other}/models`, { token: outsider.accessToken, body: customModel() });
    const mine = await api('POST', `/v1/orgs/${orgId}/models`, { token: owner.accessToken, body: customModel() });
    for (const modelId of ['no-such-model', 'fast', theirs.body.modelId]) {
      const res = await metrics(modelId, owner.accessToken, orgId);
      expect(res.status, modelId).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await metrics('no-such-model', admin.accessToken)).status).toBe(404);
    // Known models without calls: zeros. A retired built-in model stays in the catalogue.
    for (const modelId of ['local-chat', 'llama3-1-8b', mine.body.modelId]) {
      const res = await metrics(modelId, owner.accessToken, orgId);
      expect(res.status, modelId).toBe(200);
      expect(res.body).toMatchObject({ modelId, scope: orgId });
    }
    expect((await metrics('local-chat', admin.accessToken)).status).toBe(200);
  });

  it('of a custom model deleted since still answer for a range that holds its calls', async () => {
    // The current hour counts the organization's latest calls; an hour ended since only by the
    // roll-up job, which tests run when they choose: the call and the read stay in one hour.
    await clearOfPeriodEnd(3_600_000, 15_000);
    const { orgId: team } = await createTeam(owner);
    const made = await api('POST', `/v1/orgs/${team}/models`, {
      token: owner.accessToken,
      body: customModel({ providerSlug: 'local', providerModelId: 'local-chat' }),
    });
    const modelId = made.body.modelId as string;
    const messages = [{ role: 'user', content: 'Say hello.' }];
    const call = await gateway(
      '/chat/completions',
      { token: owner.accessToken },
      { model: modelId, messages },
      { 'openai-organization': team },
    );
    expect(call.status, JSON.stringify(call.body)).toBe(200);
    await usageOf(owner, team, 1);
    expect((await api('DELETE', `/v1/orgs/${team}/models/${modelId}`, { token: owner.accessToken })).status).toBe(204);
    const res = await metrics(modelId, owner.accessToken, team);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ modelId, scope: team, calls: 1 });
  }, 40_000);
});

describe('a model write’s answer', () => {
  it('is the custom model as stored: a creation and each change answer what a GET right after shows', async () => {
    const { orgId: team } = await createTeam(owner);
    let modelId = '';
    const read = () => api('GET', `/v1/orgs/${team}/models/${modelId}`, { token: owner.accessToken });
    const patch = (body: Record<string, unknown>) => () =>
      api('PATCH', `/v1/orgs/${team}/models/${modelId}`, { token: owner.accessToken, body });
    const create = async () => {
      const res = await api('POST', `/v1/orgs/${team}/models`, { token: owner.accessToken, body: customModel() });
      modelId = res.body.modelId;
      return res;
    };
    await expectAnsweredAsStored([
      ['create', create, read],
      ['rename', patch({ name: 'Support bot v2' }), read],
      ['new aliases', patch({ aliases: [`bot-${randomUUID().slice(0, 6)}`] }), read],
      ['deprecate', patch({ status: 'Deprecated' }), read],
    ]);
  });

  it('is the catalogue model as stored: a new model, its replacement and each change answer what a GET right after shows', async () => {
    const modelId = `stored-${randomUUID().slice(0, 8)}`;
    const path = `/v1/admin/models/${modelId}`;
    const read = () => api('GET', `/v1/models/${modelId}`, { token: owner.accessToken });
    await expectAnsweredAsStored([
      ['new', () => asPlatformAdmin(admin, 'PUT', path, catalogueModel()), read],
      ['replaced', () => asPlatformAdmin(admin, 'PUT', path, catalogueModel({ name: 'Replaced' })), read],
      [
        'repriced',
        () => asPlatformAdmin(admin, 'PATCH', path, { pricing: { inputPerMTokMicros: 2, outputPerMTokMicros: 2 } }),
        read,
      ],
      ['deprecated', () => asPlatformAdmin(admin, 'PATCH', path, { status: 'Deprecated' }), read],
    ]);
    expect((await asPlatformAdmin(admin, 'DELETE', path)).status).toBe(204);
  });
});
