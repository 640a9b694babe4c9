import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  asPlatformAdmin,
  createTeam,
  errorPaths,
  signUpPlatformAdmin,
  signUpUser,
  type ApiResponse,
  type SignedInUser,
} from '../helpers/api.ts';

/**
 * JSON keys the DynamoDB marshaller cannot store as sent: it types a value by
 * `value.constructor.name`, so a map with its own `constructor` key fails to write (a 500) or is
 * written as the text "[object Object]", and a `__proto__` key is lost in its copy. Wherever a
 * client's key or id becomes a key of a stored map (free-form JSON, a plan's limits, the provider
 * catalogue) or looks up a catalogue (a plan id), such a name is a 400 naming the field, and
 * nothing is written. Object.prototype's other names are ordinary keys.
 */
let user: SignedInUser;
let admin: SignedInUser;

beforeAll(async () => {
  [user, admin] = await Promise.all([signUpUser('json-keys'), signUpPlatformAdmin('json-keys-admin')]);
}, 60_000);

/** Sends the body as text: `JSON.stringify` would leave out a `__proto__` key, which a client's JSON can hold. */
const sendText = (method: string, path: string, token: string, text: string) =>
  api(method, path, { token, rawBody: text, headers: { 'content-type': 'application/json' } });

function expectRefused(res: ApiResponse, path: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(errorPaths(res.body)).toEqual([path]);
  expect(res.body.errors[0].message).toMatch(/constructor.*__proto__/);
}

describe('a key named `constructor` or `__proto__` in stored free-form JSON', () => {
  it('is a 400 naming it in profile settings, at any depth, and the settings stay as they were', async () => {
    const me = await signUpUser('json-keys-me');
    const settings = { theme: { mode: 'dark' }, pins: [{ id: 1 }] };
    expect((await api('PATCH', '/v1/me', { token: me.accessToken, body: { settings } })).status).toBe(200);

    for (const [text, path] of [
      ['{"settings":{"constructor":1}}', 'body.settings.constructor'],
      ['{"settings":{"theme":{"constructor":{"name":"String"}}}}', 'body.settings.theme.constructor'],
      ['{"settings":{"pins":[{"id":2,"constructor":null}]}}', 'body.settings.pins.0.constructor'],
      ['{"settings":{"theme":{"__proto__":{"constructor":1}}}}', 'body.settings.theme.__proto__'],
      ['{"settings":{"__proto__":{"x":1},"theme":{}}}', 'body.settings.__proto__'],
    ] as const)
      expectRefused(await sendText('PATCH', '/v1/me', me.accessToken, text), path);

    const read = await api('GET', '/v1/me', { token: me.accessToken });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.settings).toEqual(settings);
  });

  it('stores the other names of Object.prototype as sent', async () => {
    const settings = { toString: 'x', hasOwnProperty: { valueOf: 2 }, prototype: [{ isPrototypeOf: true }], __defineGetter__: 0 };
    const res = await api('PATCH', '/v1/me', { token: user.accessToken, body: { settings } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await api('GET', '/v1/me', { token: user.accessToken })).body.settings).toEqual(settings);
  });

  it('is a 400 naming it in a credential’s config, even for a provider whose config schema is open', async () => {
    const slug = `jk-${randomUUID().slice(0, 8)}`;
    // A provider an admin added with no config schema: any config object fits it.
    const provider = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${slug}`, {
      displayName: 'Open config',
      adapter: 'local',
      requiresApiKey: false,
      group: { name: 'Keys' },
    });
    expect(provider.status, JSON.stringify(provider.body)).toBe(200);
    const { orgId } = await createTeam(user);
    const path = `/v1/orgs/${orgId}/provider-credentials`;
    const post = (config: unknown) =>
      api('POST', path, { token: user.accessToken, body: { label: 'Open', providerSlug: slug, config } });

    expectRefused(await post({ constructor: { name: 'String' } }), 'body.config.constructor');
    expectRefused(await post({ region: { constructor: 1 } }), 'body.config.region.constructor');
    const listed = await api('GET', `${path}?providerSlug=${slug}`, { token: user.accessToken });
    expect(listed.body.items).toEqual([]);

    const stored = await post({ region: { toString: 1 } });
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    expect(stored.body.config).toEqual({ region: { toString: 1 } });
  });

  it('is a 400 naming it in a provider’s config schema', async () => {
    const slug = `jk-${randomUUID().slice(0, 8)}`;
    const res = await api('PUT', `/v1/admin/providers/${slug}`, {
      token: admin.accessToken,
      body: {
        displayName: 'Ctor',
        adapter: 'local',
        group: { name: 'Keys' },
        configSchema: { type: 'object', properties: { constructor: { type: 'string' } } },
      },
    });
    expectRefused(res, 'body.configSchema.properties.constructor');
  });
});

describe('`constructor` as a name the platform keys a stored map or a catalogue by', () => {
  it('is a 400 as a plan’s limit, and the plan is not written', async () => {
    const planId = `jk-${Date.now().toString(36)}-${randomUUID().slice(0, 4)}`;
    const body = { name: 'Keys', isPublic: false, limits: { constructor: { hourly: 3 } } };
    const res = await api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(errorPaths(res.body)).toEqual(['body.limits.constructor']);
    expect(res.body.errors[0].message).toMatch(/reserved/);
    // Nothing was written: the first save of the plan is its version 1.
    const saved = await api('PUT', `/v1/admin/plans/${planId}`, { token: admin.accessToken, body: { ...body, limits: {} } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.version).toBe(1);
  });

  it('is a 400 as a limit override’s resource, as it is as a plan’s', async () => {
    const { orgId } = await createTeam(user);
    const res = await api('PUT', `/v1/admin/orgs/${orgId}/limits`, {
      token: admin.accessToken,
      body: { subject: 'org', resource: 'constructor', daily: 5 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(errorPaths(res.body)).toEqual(['body.resource']);
    const limits = await api('GET', `/v1/orgs/${orgId}/limits`, { token: user.accessToken });
    expect(limits.body.items.filter((l: { resource: string }) => l.resource === 'constructor')).toEqual([]);
  });

  it('is a 400 as a plan id, never a plan found on Object.prototype', async () => {
    const res = await api('PUT', '/v1/admin/plans/constructor', {
      token: admin.accessToken,
      body: { name: 'Ctor', isPublic: false },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(errorPaths(res.body)).toEqual(['params.planId']);
  });

  it('is a 400 as a provider slug, and the catalogue stays readable without it', async () => {
    const res = await api('PUT', '/v1/admin/providers/constructor', {
      token: admin.accessToken,
      body: { displayName: 'Ctor', adapter: 'openai', group: { name: 'x' }, status: 'Inactive' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(errorPaths(res.body)).toEqual(['params.slug']);
    const listed = await api('GET', '/v1/providers?includeInactive=true', { token: admin.accessToken });
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.items.map((p: { slug: string }) => p.slug)).not.toContain('constructor');
  });
});
