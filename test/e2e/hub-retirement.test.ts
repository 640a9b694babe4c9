import { randomUUID } from 'node:crypto';
import { DEFAULT_MODELS } from '@platform/domain/hub/default-models';
import { hubDb } from '@platform/domain/hub/entities';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createTeam, signUpPlatformAdmin, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { gateway, keyFor } from '../helpers/gateway.ts';

/**
 * Retiring a catalogue model against what names it: global routing rules (never left naming a
 * retired model, however the two writes interleave) and organizations' aliases (a catalogue
 * model saved with one's id does not take that organization's calls). Every catalogue model and
 * global rule here has a name no other test uses, and the rules are deleted at the end.
 */
let admin: SignedInUser;
let owner: SignedInUser;
let orgId: string;

beforeAll(async () => {
  [admin, owner] = await Promise.all([signUpPlatformAdmin('retire-admin'), signUpUser('retire-owner')]);
  ({ orgId } = await createTeam(owner));
});

const catalogueBody = {
  providerSlug: 'local',
  providerModelId: 'local-chat',
  name: 'Retirement test model',
  type: 'TEXT',
  capabilities: ['chat', 'stream'],
  pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
};

const newCatalogueModel = async (extra: Record<string, unknown> = {}) => {
  const modelId = `retire-${randomUUID().slice(0, 8)}`;
  const res = await api('PUT', `/v1/admin/models/${modelId}`, { token: admin.accessToken, body: { ...catalogueBody, ...extra } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return modelId;
};

const globalRule = (modelId: string) => ({
  name: `retire ${modelId}`,
  priority: 100,
  modelType: 'TEXT',
  conditions: { models: [`trigger-${modelId}`] },
  targets: [{ modelId, weight: 1 }],
  fallbacks: [],
});

/** Runs `work` with a list to collect the global rules it creates, deleting them afterwards. */
async function withRules(work: (created: string[]) => Promise<void>) {
  const created: string[] = [];
  try {
    await work(created);
  } finally {
    for (const ruleId of created) await api('DELETE', `/v1/admin/routing-rules/${ruleId}`, { token: admin.accessToken });
  }
}

describe('a catalogue model named by a global routing rule', () => {
  it('is never retired by a DELETE racing the rule that names it: one of the two is refused', async () => {
    await withRules(async (created) => {
      for (let i = 0; i < 12; i++) {
        const modelId = await newCatalogueModel();
        const [retired, rule] = await Promise.all([
          api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken }),
          api('POST', '/v1/admin/routing-rules', { token: admin.accessToken, body: globalRule(modelId) }),
        ]);
        if (rule.status === 201) created.push(rule.body.ruleId);
        const outcome = `${modelId}: ${retired.status} ${rule.status} ${JSON.stringify([retired.body, rule.body])}`;
        // Retired first: the rule finds it gone (400) or its mark fails (409). Named first: the retirement is a 409.
        if (retired.status === 204) expect([400, 409], outcome).toContain(rule.status);
        else expect([retired.status, rule.status], outcome).toEqual([409, 201]);
        const model = await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken });
        expect(model.status).toBe(rule.status === 201 ? 200 : 404);
      }
    });
  });

  it('is never retired while a rule names it when it is a built-in model, which the rule does not store', async () => {
    // A built-in model no other test calls. Its row (none while never edited) is removed before
    // and after, so it is as in code again whatever happens.
    const modelId = 'llama3-1-70b';
    const definition = DEFAULT_MODELS[modelId]!;
    const row = async () => (await hubDb.model.get({ owner: 'platform', modelId }).go({ consistent: true })).data;
    const asInCode = () => hubDb.model.delete({ owner: 'platform', modelId }).go();
    await withRules(async (created) => {
      try {
        await asInCode();
        // Named by a rule, it is not stored: its definition (its price, say) still comes from code.
        const named = await api('POST', '/v1/admin/routing-rules', { token: admin.accessToken, body: globalRule(modelId) });
        expect(named.status, JSON.stringify(named.body)).toBe(201);
        created.push(named.body.ruleId);
        expect(await row()).toBeNull();
        const shown = await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken });
        expect(shown.body).toMatchObject({ status: 'Active', isBuiltIn: true, pricing: definition.pricing });
        expect((await api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken })).status).toBe(409);
        for (const ruleId of created.splice(0))
          expect((await api('DELETE', `/v1/admin/routing-rules/${ruleId}`, { token: admin.accessToken })).status).toBe(204);
        for (let i = 0; i < 6; i++) {
          const [retired, rule] = await Promise.all([
            api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken }),
            api('POST', '/v1/admin/routing-rules', { token: admin.accessToken, body: globalRule(modelId) }),
          ]);
          if (rule.status === 201) created.push(rule.body.ruleId);
          const outcome = `${retired.status} ${rule.status} ${JSON.stringify([retired.body, rule.body])}`;
          if (retired.status === 204) expect([400, 409], outcome).toContain(rule.status);
          else expect([retired.status, rule.status], outcome).toEqual([409, 201]);
          const model = await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken });
          expect(model.body, outcome).toMatchObject({ status: rule.status === 201 ? 'Active' : 'Inactive', isBuiltIn: true });
          // Only the retirement stores it (Inactive); the rule's write never does.
          expect(await row(), outcome).toEqual(retired.status === 204 ? expect.objectContaining({ status: 'Inactive' }) : null);
          for (const ruleId of created.splice(0))
            expect((await api('DELETE', `/v1/admin/routing-rules/${ruleId}`, { token: admin.accessToken })).status).toBe(204);
          await asInCode();
        }
      } finally {
        await asInCode();
      }
    });
  });

  it('is never made Inactive by a PATCH racing a rule change that names it: one of the two is refused', async () => {
    await withRules(async (created) => {
      const first = await newCatalogueModel();
      const rule = await api('POST', '/v1/admin/routing-rules', { token: admin.accessToken, body: globalRule(first) });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
      created.push(rule.body.ruleId);
      for (let i = 0; i < 12; i++) {
        const modelId = await newCatalogueModel();
        const [retired, changed] = await Promise.all([
          api('PATCH', `/v1/admin/models/${modelId}`, { token: admin.accessToken, body: { status: 'Inactive' } }),
          api('PATCH', `/v1/admin/routing-rules/${rule.body.ruleId}`, {
            token: admin.accessToken,
            body: { targets: [{ modelId, weight: 1 }] },
          }),
        ]);
        const outcome = `${modelId}: ${retired.status} ${changed.status} ${JSON.stringify([retired.body, changed.body])}`;
        if (retired.status === 200) expect([400, 409], outcome).toContain(changed.status);
        else expect([retired.status, changed.status], outcome).toEqual([409, 200]);
        const model = await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken });
        expect(model.body.status).toBe(changed.status === 200 ? 'Active' : 'Inactive');
        if (changed.status !== 200) continue;
        // The rule names it now: put it back on `first` so the next model is free to retire.
        const back = await api('PATCH', `/v1/admin/routing-rules/${rule.body.ruleId}`, {
          token: admin.accessToken,
          body: { targets: [{ modelId: first, weight: 1 }] },
        });
        expect(back.status).toBe(200);
      }
    });
  });

  it('cannot be made Inactive by PATCH or PUT, as DELETE cannot retire it, until the rule changes', async () => {
    const modelId = await newCatalogueModel();
    const rule = await api('POST', '/v1/admin/routing-rules', { token: admin.accessToken, body: globalRule(modelId) });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    await withRules(async (created) => {
      created.push(rule.body.ruleId);
      const viaDelete = await api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken });
      expect(viaDelete.status).toBe(409);
      const viaPatch = await api('PATCH', `/v1/admin/models/${modelId}`, {
        token: admin.accessToken,
        body: { status: 'Inactive' },
      });
      expect(viaPatch.status, JSON.stringify(viaPatch.body)).toBe(409);
      expect(viaPatch.body.detail).toContain(rule.body.ruleId);
      const viaPut = await api('PUT', `/v1/admin/models/${modelId}`, {
        token: admin.accessToken,
        body: { ...catalogueBody, status: 'Inactive' },
      });
      expect(viaPut.status, JSON.stringify(viaPut.body)).toBe(409);
      expect((await api('GET', `/v1/models/${modelId}`, { token: owner.accessToken })).body.status).toBe('Active');
    });
    // The rule gone, the same PATCH retires it.
    const retired = await api('PATCH', `/v1/admin/models/${modelId}`, { token: admin.accessToken, body: { status: 'Inactive' } });
    expect(retired.status, JSON.stringify(retired.body)).toBe(200);
    expect(retired.body.status).toBe('Inactive');
  });

  it('refuses a new rule, global or an organization’s, naming a retired (Inactive) model with a 400', async () => {
    const modelId = await newCatalogueModel({ status: 'Inactive' });
    await withRules(async (created) => {
      const global = await api('POST', '/v1/admin/routing-rules', { token: admin.accessToken, body: globalRule(modelId) });
      if (global.status === 201) created.push(global.body.ruleId);
      expect(global.status, JSON.stringify(global.body)).toBe(400);
      expect(global.body.errors).toEqual([{ path: 'body.targets.0.modelId', message: `${modelId} is retired (Inactive)` }]);
      const org = await api('POST', `/v1/orgs/${orgId}/routing-rules`, {
        token: owner.accessToken,
        body: { ...globalRule('local-chat'), fallbacks: [modelId] },
      });
      expect(org.status, JSON.stringify(org.body)).toBe(400);
      expect(org.body.errors).toEqual([{ path: 'body.fallbacks.0', message: `${modelId} is retired (Inactive)` }]);
    });
  });
});

describe('an organization’s alias that a catalogue model takes as its id later', () => {
  const chat = (key: string, model: string) =>
    gateway('/chat/completions', { apiKey: key }, { model, messages: [{ role: 'user', content: 'hi' }] });

  it('keeps reaching the organization’s own model when the catalogue model is new', async () => {
    const name = `retire-alias-${randomUUID().slice(0, 8)}`;
    const custom = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: { ...catalogueBody, name: 'ours', aliases: [name] },
    });
    expect(custom.status, JSON.stringify(custom.body)).toBe(201);
    expect((await api('PUT', `/v1/admin/models/${name}`, { token: admin.accessToken, body: catalogueBody })).status).toBe(200);
    const key = await keyFor(owner, orgId);
    const ours = await chat(key, name.toUpperCase());
    expect(ours.status, JSON.stringify(ours.body)).toBe(200);
    expect(ours.headers.get('x-route')).toContain(`pick=${custom.body.modelId}`);
    // Another organization, without the alias, reaches the catalogue model.
    const other = await createTeam(owner);
    const theirs = await chat(await keyFor(owner, other.orgId), name);
    expect(theirs.status, JSON.stringify(theirs.body)).toBe(200);
    expect(theirs.headers.get('x-route')).toContain(`pick=${name}`);
  });

  it('keeps reaching the organization’s own model when a retired catalogue model is brought back', async () => {
    const modelId = await newCatalogueModel();
    expect((await api('DELETE', `/v1/admin/models/${modelId}`, { token: admin.accessToken })).status).toBe(204);
    const custom = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: { ...catalogueBody, name: 'ours', aliases: [modelId] },
    });
    expect(custom.status, JSON.stringify(custom.body)).toBe(201);
    expect((await api('PUT', `/v1/admin/models/${modelId}`, { token: admin.accessToken, body: catalogueBody })).status).toBe(200);
    const routed = await chat(await keyFor(owner, orgId), modelId);
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    expect(routed.headers.get('x-route')).toContain(`pick=${custom.body.modelId}`);
    // While the catalogue model exists, another organization cannot take its id as an alias (409).
    const other = await createTeam(owner);
    const refused = await api('POST', `/v1/orgs/${other.orgId}/models`, {
      token: owner.accessToken,
      body: { ...catalogueBody, name: 'theirs', aliases: [modelId] },
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.errors).toEqual([{ path: 'body.aliases', message: `${modelId} is the id of a catalogue model` }]);
  });
});
