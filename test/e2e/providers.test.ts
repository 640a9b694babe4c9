import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createTeam,
  errorPaths,
  platformAuditEvents,
  asPlatformAdmin,
  signUpPlatformAdmin,
  signUpUser,
  type SignedInUser,
} from '../helpers/api.ts';

let user: SignedInUser;
let admin: SignedInUser;

beforeAll(async () => {
  [user, admin] = await Promise.all([signUpUser('providers-user'), signUpPlatformAdmin('providers-admin')]);
});

const slug = () => `prov-${randomUUID().slice(0, 8)}`;
const provider = {
  displayName: 'Acme LLM',
  description: 'An OpenAI-compatible server',
  website: 'https://acme.example.com',
  adapter: 'openai',
  requiresApiKey: true,
  requiresBaseUrl: true,
  capabilities: ['chat', 'stream'],
  configSchema: {
    type: 'object',
    properties: { region: { type: 'string', enum: ['eu', 'us'] }, timeoutMs: { type: 'integer', minimum: 1000 } },
    required: ['region'],
    additionalProperties: false,
  },
  group: { name: 'Acme', icon: 'acme', color: '#123456' },
};

describe('providers', () => {
  it('are listed to any signed-in principal: the five built-in ones with their adapters, groups and config schemas', async () => {
    const { orgId } = await createTeam(user);
    const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: user.accessToken,
      body: { name: 'Reader', scopes: ['org:read'] },
    });
    for (const credentials of [{ token: user.accessToken }, { apiKey: created.body.key as string }]) {
      const res = await api('GET', '/v1/providers', credentials);
      expect(res.status).toBe(200);
      const slugs = res.body.items.map((p: { slug: string }) => p.slug);
      expect(slugs.slice(0, 5)).toEqual(['bedrock', 'openai', 'anthropic', 'google', 'local']);
      const bedrock = res.body.items[0];
      expect(bedrock).toMatchObject({
        adapter: 'bedrock',
        requiresApiKey: false,
        supportsStreaming: true,
        isBuiltIn: true,
        group: { name: 'AWS', color: '#FF9900' },
        configSchema: { type: 'object', properties: { region: { type: 'string' } } },
      });
      expect(res.body.items.find((p: { slug: string }) => p.slug === 'openai')).toMatchObject({
        requiresApiKey: true,
        defaultBaseUrl: 'https://api.openai.com/v1',
      });
    }
    expect((await api('GET', '/v1/providers')).status).toBe(401);
  });

  it('are added, changed and removed by platform admins only, each change in the platform’s audit log', async () => {
    const since = Date.now() - 5_000;
    const id = slug();
    expect((await api('PUT', `/v1/admin/providers/${id}`, { token: user.accessToken, body: provider })).status).toBe(403);
    const saved = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${id}`, provider);
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      slug: id,
      status: 'Active',
      supportsStreaming: true,
      isBuiltIn: false,
      updatedBy: admin.userId,
    });
    const listed = await api('GET', '/v1/providers', { token: user.accessToken });
    expect(listed.body.items.map((p: { slug: string }) => p.slug)).toContain(id);

    const patched = await asPlatformAdmin(admin, 'PATCH', `/v1/admin/providers/${id}`, {
      status: 'Deprecated',
      displayName: 'Acme LLM (old)',
    });
    expect(patched.body).toMatchObject({ slug: id, status: 'Deprecated', displayName: 'Acme LLM (old)', adapter: 'openai' });

    const [change] = await platformAuditEvents(admin, id, since, 'provider.saved');
    expect(change).toMatchObject({ action: 'provider.saved', actorId: admin.userId, targetType: 'provider' });
    expect(change!.details.before).toMatchObject({ status: 'Active' });
    expect(change!.details.after).toMatchObject({ status: 'Deprecated' });

    expect((await api('DELETE', `/v1/admin/providers/${id}`, { token: user.accessToken })).status).toBe(403);
    expect((await asPlatformAdmin(admin, 'DELETE', `/v1/admin/providers/${id}`)).status).toBe(204);
    const after = await api('GET', '/v1/providers?includeInactive=true', { token: user.accessToken });
    expect(after.body.items.map((p: { slug: string }) => p.slug)).not.toContain(id);
    expect((await api('DELETE', `/v1/admin/providers/${id}`, { token: admin.accessToken })).status).toBe(404);
    expect(
      (await api('PATCH', `/v1/admin/providers/${slug()}`, { token: admin.accessToken, body: { status: 'Active' } })).status,
    ).toBe(404);
  });

  it('take changes of different providers at the same moment, each provider locked on its own: no 409, nothing lost', async () => {
    const ids = Array.from({ length: 6 }, slug);
    for (const id of ids) expect((await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${id}`, provider)).status).toBe(200);
    // Six admins' changes at once (one retires its provider), none retried: none waits on another's.
    const changes = await Promise.all(
      ids.map((id, i) =>
        i === 5
          ? api('DELETE', `/v1/admin/providers/${id}`, { token: admin.accessToken })
          : api('PATCH', `/v1/admin/providers/${id}`, { token: admin.accessToken, body: { displayName: `Acme ${i}` } }),
      ),
    );
    expect(changes.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 204]);
    const listed = new Map<string, { displayName: string }>(
      (await api('GET', '/v1/providers?includeInactive=true', { token: user.accessToken })).body.items.map(
        (p: { slug: string; displayName: string }) => [p.slug, p],
      ),
    );
    ids.slice(0, 5).forEach((id, i) => expect(listed.get(id)?.displayName).toBe(`Acme ${i}`));
    expect(listed.has(ids[5]!)).toBe(false);

    // Two changes of one provider at once: each either lands, or is a 409 that changed nothing.
    const [id] = ids;
    const [name, text] = await Promise.all([
      api('PATCH', `/v1/admin/providers/${id}`, { token: admin.accessToken, body: { displayName: 'Renamed' } }),
      api('PATCH', `/v1/admin/providers/${id}`, { token: admin.accessToken, body: { description: 'Described' } }),
    ]);
    expect([name.status, text.status]).not.toContain(500);
    expect([name.status, text.status]).toContain(200);
    const after = (await api('GET', '/v1/providers', { token: user.accessToken })).body.items.find(
      (p: { slug: string }) => p.slug === id,
    );
    expect(after.displayName).toBe(name.status === 200 ? 'Renamed' : 'Acme 0');
    expect(after.description).toBe(text.status === 200 ? 'Described' : provider.description);
    for (const res of [name, text]) if (res.status !== 200) expect(res.body.detail).toContain('changed meanwhile');
  });

  it('list inactive ones only when asked', async () => {
    const id = slug();
    expect((await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${id}`, { ...provider, status: 'Inactive' })).status).toBe(
      200,
    );
    const active = await api('GET', '/v1/providers', { token: user.accessToken });
    expect(active.body.items.map((p: { slug: string }) => p.slug)).not.toContain(id);
    const all = await api('GET', '/v1/providers?includeInactive=true', { token: user.accessToken });
    expect(all.body.items.find((p: { slug: string }) => p.slug === id)).toMatchObject({ status: 'Inactive' });
  });

  it('come whole: the list refuses a limit or cursor rather than ignore it', async () => {
    const res = await api('GET', '/v1/providers?includeInactive=true&limit=1&cursor=x', { token: user.accessToken });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'query.limit', message: 'This list comes whole: it takes no limit or cursor' },
      { path: 'query.cursor', message: 'This list comes whole: it takes no limit or cursor' },
    ]);
  });

  it('refuse a config schema that uses keywords the platform does not enforce, or is malformed', async () => {
    const res = await api('PUT', `/v1/admin/providers/${slug()}`, {
      token: admin.accessToken,
      body: {
        ...provider,
        configSchema: {
          type: 'object',
          properties: { email: { type: 'string', format: 'email' }, n: { type: 'integer', minimum: 'one' } },
          oneOf: [],
        },
      },
    });
    expect(res.status).toBe(400);
    expect(errorPaths(res.body).sort()).toEqual(
      ['body.configSchema.oneOf', 'body.configSchema.properties.email.format', 'body.configSchema.properties.n.minimum'].sort(),
    );
    // At most 4 KiB: the catalogue is one item, and an edit's audit row holds it twice.
    const large = await api('PUT', `/v1/admin/providers/${slug()}`, {
      token: admin.accessToken,
      body: { ...provider, configSchema: { type: 'object', description: 'x'.repeat(5_000) } },
    });
    expect(large.status).toBe(400);
    expect(errorPaths(large.body)).toEqual(['body.configSchema']);
    const badUrl = await api('PUT', `/v1/admin/providers/${slug()}`, {
      token: admin.accessToken,
      body: { ...provider, defaultBaseUrl: 'http://169.254.169.254/latest' },
    });
    expect(errorPaths(badUrl.body)).toEqual(['body.defaultBaseUrl']);
  });

  it('bound the time a config value takes to match a pattern: a crafted one is refused, not left to hold the request', async () => {
    const { orgId } = await createTeam(user);
    const pattern = '^(a|aa)+$'; // backtracks without end on a crafted value, and no check of the pattern alone tells
    const saved = await asPlatformAdmin(admin, 'PUT', `/v1/admin/providers/${slug()}`, {
      ...provider,
      requiresApiKey: false,
      requiresBaseUrl: false,
      configSchema: { type: 'object', properties: { name: { type: 'string', pattern } } },
    });
    expect(saved.status).toBe(200);
    const create = (name: string) =>
      api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
        token: user.accessToken,
        body: { label: 'Crafted', providerSlug: saved.body.slug, config: { name } },
      });
    const crafted = await create('a'.repeat(40) + '!');
    expect(crafted.status).toBe(400);
    expect(crafted.body.errors).toEqual([
      {
        path: expect.stringMatching(/config\.name$/),
        message: `Took too long to match against ${pattern}: send a shorter or simpler value`,
      },
    ]);
    expect((await create('aaaa')).status).toBe(201);
  });
});
