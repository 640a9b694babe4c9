import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createTeam,
  errorPaths,
  platformAuditEvents,
  signUpPlatformAdmin,
  signUpUser,
  type SignedInUser,
} from '../helpers/api.ts';
import { expectAnsweredAsStored } from '../helpers/as-stored.ts';
import { gateway } from '../helpers/gateway.ts';

let owner: SignedInUser;
let editor: SignedInUser;
let admin: SignedInUser;
let orgId: string;

beforeAll(async () => {
  [owner, editor, admin] = await Promise.all([
    signUpUser('rules-owner'),
    signUpUser('rules-editor'),
    signUpPlatformAdmin('rules-admin'),
  ]);
  ({ orgId } = await createTeam(owner, [{ user: editor, role: 'editor' }]));
});

const rule = (extra: Record<string, unknown> = {}) => ({
  name: 'Cheap first',
  description: 'Small models, then a strong fallback',
  priority: 10,
  modelType: 'TEXT',
  conditions: { models: ['default-chat', 'fast'], planIds: ['free', 'pro'], tags: ['batch'], maxCostPerMTokMicros: 2_000_000 },
  targets: [
    { modelId: 'nova-micro', weight: 3, notes: 'cheapest' },
    { modelId: 'nova-lite', weight: 1 },
  ],
  fallbacks: ['claude-3-haiku'],
  ...extra,
});

describe('an organization’s routing rules', () => {
  it('are created, listed in the order they are tried, read, changed and deleted', async () => {
    const { orgId: team } = await createTeam(owner);
    const created = await api('POST', `/v1/orgs/${team}/routing-rules`, { token: owner.accessToken, body: rule() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      ruleId: expect.stringMatching(/^rtr_/),
      scope: 'org',
      orgId: team,
      isActive: true,
      targets: [
        { modelId: 'nova-micro', weight: 3, notes: 'cheapest' },
        { modelId: 'nova-lite', weight: 1 },
      ],
      fallbacks: ['claude-3-haiku'],
      createdBy: owner.userId,
    });
    const first = await api('POST', `/v1/orgs/${team}/routing-rules`, {
      token: owner.accessToken,
      body: { name: 'Images', priority: 1, modelType: 'IMAGE', targets: [{ modelId: 'nova-canvas' }] },
    });
    expect(first.body).toMatchObject({ conditions: {}, fallbacks: [], targets: [{ modelId: 'nova-canvas', weight: 1 }] });

    const list = await api('GET', `/v1/orgs/${team}/routing-rules`, { token: owner.accessToken });
    expect(list.body.items.map((r: { ruleId: string }) => r.ruleId)).toEqual([first.body.ruleId, created.body.ruleId]);

    const path = `/v1/orgs/${team}/routing-rules/${created.body.ruleId}`;
    expect((await api('GET', path, { token: owner.accessToken })).body.name).toBe('Cheap first');
    const changed = await api('PATCH', path, {
      token: owner.accessToken,
      body: { priority: 1, isActive: false, fallbacks: ['nova-pro', 'claude-3-haiku'] },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      priority: 1,
      isActive: false,
      fallbacks: ['nova-pro', 'claude-3-haiku'],
      updatedBy: owner.userId,
    });
    expect((await api('GET', path, { token: owner.accessToken })).body).toMatchObject({ priority: 1, isActive: false });

    const audit = await api('GET', `/v1/orgs/${team}/audit-events`, { token: owner.accessToken });
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['routing-rule.created', 'routing-rule.updated']),
    );
    expect((await api('DELETE', path, { token: owner.accessToken })).status).toBe(204);
    expect((await api('GET', path, { token: owner.accessToken })).status).toBe(404);
    expect((await api('DELETE', path, { token: owner.accessToken })).status).toBe(404);
  });

  it('are read by editors but changed only with routing:manage', async () => {
    expect((await api('POST', `/v1/orgs/${orgId}/routing-rules`, { token: editor.accessToken, body: rule() })).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}/routing-rules`, { token: editor.accessToken })).status).toBe(200);
  });

  it('name only models that exist, of a type the rule routes, and validate their conditions', async () => {
    const post = (body: unknown) => api('POST', `/v1/orgs/${orgId}/routing-rules`, { token: owner.accessToken, body });
    const unknown = await post(
      rule({ targets: [{ modelId: 'nova-micro' }, { modelId: 'no-such-model' }], fallbacks: ['gone-model'] }),
    );
    expect(unknown.status).toBe(400);
    expect(errorPaths(unknown.body)).toEqual(['body.targets.1.modelId', 'body.fallbacks.0']);
    // A name Object.prototype holds is no model of the catalogue either.
    const inherited = await post(rule({ targets: [{ modelId: 'constructor' }], fallbacks: [] }));
    expect(inherited.status).toBe(400);
    expect(inherited.body.errors.map((e: { message: string }) => e.message)).toEqual(['No model constructor']);
    const wrongType = await post(rule({ targets: [{ modelId: 'nova-canvas' }] }));
    expect(errorPaths(wrongType.body)).toEqual(['body.targets.0.modelId']);
    expect(wrongType.body.errors[0].message).toContain('IMAGE');
    // Another organization's custom model is not one of ours.
    const { orgId: other } = await createTeam(owner);
    const foreign = await api('POST', `/v1/orgs/${other}/models`, {
      token: owner.accessToken,
      body: {
        providerSlug: 'bedrock',
        providerModelId: 'x',
        name: 'Theirs',
        type: 'TEXT',
        pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
      },
    });
    expect(errorPaths((await post(rule({ targets: [{ modelId: foreign.body.modelId }] }))).body)).toEqual([
      'body.targets.0.modelId',
    ]);

    for (const [body, path] of [
      [rule({ priority: 0 }), 'body.priority'],
      [rule({ priority: 101 }), 'body.priority'],
      [rule({ targets: [] }), 'body.targets'],
      [rule({ targets: [{ modelId: 'nova-micro' }, { modelId: 'nova-micro' }] }), 'body.targets'],
      [rule({ conditions: { maxCost: 1 } }), 'body.conditions'],
      [rule({ conditions: { planIds: ['Free!'] } }), 'body.conditions.planIds.0'],
      [rule({ targets: [{ modelId: 'nova-micro', weight: 0 }] }), 'body.targets.0.weight'],
    ] as const) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(errorPaths(res.body)).toContain(path);
    }
  });

  it('change model type only with the targets and fallbacks for it', async () => {
    const created = await api('POST', `/v1/orgs/${orgId}/routing-rules`, { token: owner.accessToken, body: rule() });
    const path = `/v1/orgs/${orgId}/routing-rules/${created.body.ruleId}`;
    const alone = await api('PATCH', path, { token: owner.accessToken, body: { modelType: 'IMAGE' } });
    expect(alone.status).toBe(400);
    const withTargets = await api('PATCH', path, {
      token: owner.accessToken,
      body: {
        modelType: 'IMAGE',
        targets: [
          { modelId: 'nova-canvas', weight: 1 },
          { modelId: 'titan-image-v2', weight: 1 },
        ],
        fallbacks: [],
      },
    });
    expect(withTargets.status).toBe(200);
    expect(withTargets.body).toMatchObject({ modelType: 'IMAGE', fallbacks: [] });
    const mismatch = await api('PATCH', path, { token: owner.accessToken, body: { fallbacks: ['nova-micro'] } });
    expect(errorPaths(mismatch.body)).toEqual(['body.fallbacks.0']);
  });
});

describe('a rule with a tags condition', () => {
  it('applies to the gateway calls that carry every one of its tags in x-route-tags; a bad header is a 400', async () => {
    const { orgId: team } = await createTeam(owner);
    const tagged = await api('POST', `/v1/orgs/${team}/routing-rules`, {
      token: owner.accessToken,
      body: {
        name: 'EU batch',
        priority: 1,
        modelType: 'TEXT',
        conditions: { tags: ['batch', 'eu'] },
        targets: [{ modelId: 'local-chat' }],
      },
    });
    expect(tagged.status, JSON.stringify(tagged.body)).toBe(201);
    const call = (headers: Record<string, string> = {}) =>
      gateway(
        '/chat/completions',
        { token: owner.accessToken },
        { model: 'local-chat', messages: [{ role: 'user', content: 'Hello' }] },
        { 'openai-organization': team, ...headers },
      );
    const routeOf = async (headers?: Record<string, string>) => {
      const res = await call(headers);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.headers.get('x-route')!;
    };
    expect(await routeOf({ 'x-route-tags': 'eu, batch,nightly' })).toMatch(new RegExp(`^${tagged.body.ruleId};`));
    expect(await routeOf({ 'x-route-tags': 'batch' })).toMatch(/^default;/);
    expect(await routeOf()).toMatch(/^default;/);

    const tooMany = Array.from({ length: 21 }, (_, i) => `t${i}`).join(',');
    for (const [header, param] of [
      ['Batch!', 'headers.x-route-tags.0'],
      ['eu,-x', 'headers.x-route-tags.1'],
      [tooMany, 'headers.x-route-tags'],
      ['x'.repeat(1_001), 'headers.x-route-tags'],
    ]) {
      const res = await call({ 'x-route-tags': header! });
      expect([res.status, res.body.error?.type, res.body.error?.param], header).toEqual([400, 'invalid_request_error', param]);
    }
  });
});

describe('how many routing rules an organization keeps', () => {
  it('is at most 100: one more is a 409 that changes nothing, and deleting one makes room', async () => {
    const { orgId: team } = await createTeam(owner);
    const create = (i: number) =>
      api('POST', `/v1/orgs/${team}/routing-rules`, { token: owner.accessToken, body: rule({ name: `Rule ${i}` }) });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const created = await create(i);
      expect(created.status).toBe(201);
      ids.push(created.body.ruleId);
    }
    const refused = await create(100);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe('An organization has at most 100 routing rules; delete one first');
    const list = await api('GET', `/v1/orgs/${team}/routing-rules`, { token: owner.accessToken });
    expect(list.body.items).toHaveLength(100);

    expect((await api('DELETE', `/v1/orgs/${team}/routing-rules/${ids[0]}`, { token: owner.accessToken })).status).toBe(204);
    expect((await create(100)).status).toBe(201);
    expect((await create(101)).status).toBe(409);
  }, 60_000);

  it('comes whole: the list refuses a limit or cursor rather than ignore it', async () => {
    for (const query of ['limit=10', 'cursor=abc']) {
      const res = await api('GET', `/v1/orgs/${orgId}/routing-rules?${query}`, { token: owner.accessToken });
      expect(res.status).toBe(400);
      expect(errorPaths(res.body)).toEqual([`query.${query.split('=')[0]}`]);
    }
    const admins = await api('GET', '/v1/admin/routing-rules?limit=10', { token: admin.accessToken });
    expect(admins.status).toBe(400);
  });
});

describe('global routing rules', () => {
  it('are managed by platform admins only, route to catalogue models only, and are audited', async () => {
    const since = Date.now() - 5_000;
    const name = `virtual-${randomUUID().slice(0, 8)}`;
    const body = rule({ conditions: { models: [name] } });
    expect((await api('POST', '/v1/admin/routing-rules', { token: owner.accessToken, body })).status).toBe(403);
    expect((await api('GET', '/v1/admin/routing-rules', { token: owner.accessToken })).status).toBe(403);
    const created = await api('POST', '/v1/admin/routing-rules', { token: admin.accessToken, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ scope: 'global', createdBy: admin.userId });
    expect(created.body).not.toHaveProperty('orgId');
    const id = created.body.ruleId as string;
    const list = await api('GET', '/v1/admin/routing-rules', { token: admin.accessToken });
    expect(list.body.items.map((r: { ruleId: string }) => r.ruleId)).toContain(id);
    expect((await api('GET', `/v1/admin/routing-rules/${id}`, { token: admin.accessToken })).body.ruleId).toBe(id);
    // Not an organization's rule.
    expect((await api('GET', `/v1/orgs/${orgId}/routing-rules/${id}`, { token: owner.accessToken })).status).toBe(404);

    const custom = await api('POST', `/v1/orgs/${orgId}/models`, {
      token: owner.accessToken,
      body: {
        providerSlug: 'bedrock',
        providerModelId: 'x',
        name: 'Ours',
        type: 'TEXT',
        pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
      },
    });
    const refused = await api('PATCH', `/v1/admin/routing-rules/${id}`, {
      token: admin.accessToken,
      body: { targets: [{ modelId: custom.body.modelId, weight: 1 }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatchObject({
      path: 'body.targets.0.modelId',
      message: 'Global rules route to catalogue models only',
    });

    const changed = await api('PATCH', `/v1/admin/routing-rules/${id}`, { token: admin.accessToken, body: { isActive: false } });
    expect(changed.body.isActive).toBe(false);
    expect((await api('DELETE', `/v1/admin/routing-rules/${id}`, { token: admin.accessToken })).status).toBe(204);
    // The platform's audit log, which every suite's platform-wide changes reach meanwhile: read back to this test's start.
    const actions = (await platformAuditEvents(admin, id, since)).map((e) => e.action);
    expect(actions).toEqual(['routing-rule.deleted', 'routing-rule.updated', 'routing-rule.created']);
  });
});

describe('a routing rule write’s answer', () => {
  it('is the rule as stored, an organization’s or a global one: a creation and each change answer what a GET right after shows', async () => {
    const { orgId: team } = await createTeam(owner);
    const scopes = [
      { base: `/v1/orgs/${team}/routing-rules`, as: owner, body: rule() },
      // A global rule for a model name no call uses: it routes nobody else's calls.
      {
        base: '/v1/admin/routing-rules',
        as: admin,
        body: rule({ conditions: { models: [`virtual-${randomUUID().slice(0, 8)}`] } }),
      },
    ];
    for (const { base, as, body } of scopes) {
      let id = '';
      const send = (method: string, path: string, sent?: unknown) => api(method, path, { token: as.accessToken, body: sent });
      const read = () => send('GET', `${base}/${id}`);
      const patch = (changes: Record<string, unknown>) => () => send('PATCH', `${base}/${id}`, changes);
      const create = async () => {
        const res = await send('POST', base, body);
        id = res.body.ruleId;
        return res;
      };
      await expectAnsweredAsStored([
        [`${base}: create`, create, read],
        [`${base}: renamed`, patch({ name: 'Renamed' }), read],
        [`${base}: reprioritized`, patch({ priority: 20 }), read],
        [`${base}: deactivated`, patch({ isActive: false }), read],
      ]);
      expect((await send('DELETE', `${base}/${id}`)).status).toBe(204);
    }
  });
});
