import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import type { RouteDefinition } from '@platform/http/route';
import { api, createTeam, signUpPlatformAdmin, type SignedInUser } from '../helpers/api.ts';
import { EXISTING_NAMES, boundaryValues } from '../helpers/boundary-values.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

/**
 * Valid input at its edges, route by route from the manifest: the shortest and longest strings
 * (the longest in astral characters, four bytes each), numbers at their bounds, full arrays,
 * optional fields left out or all sent (`boundaryValues`). The bad-input suite proves that
 * invalid requests stop at validation; these pass it, so they reach the domain, DynamoDB and
 * the model adapters, and must still never get a 5xx. Sent by a platform admin who owns a
 * team, on that team, so that authorization lets them through.
 */
/** The keys' provider: tests of a key call it, never the internet. */
const fake = useFakeProvider();
let admin: SignedInUser;
/** Path parameters by name: the admin's team and things in it, so that updates find what they change. */
let ids: Record<string, string>;
/** The same for the caller's own provider keys (`/v1/me/provider-credentials/{credentialId}`). */
let myIds: Record<string, string>;

async function created(path: string, body: unknown, id: string): Promise<string> {
  const res = await api('POST', path, { token: admin.accessToken, body });
  expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(201);
  return res.body[id] as string;
}

beforeAll(async () => {
  admin = await signUpPlatformAdmin('boundary');
  const { orgId } = await createTeam(admin);
  const credential = {
    label: 'Boundary',
    providerSlug: 'openai',
    key: 'sk-boundary-0000000000000000',
    baseUrl: fake().baseUrl('openai'),
  };
  ids = {
    orgId,
    userId: admin.userId,
    sessionId: admin.sessionId,
    invitationId: 'inv_01jq0000000000000000000000',
    clientId: 'ak_01jq0000000000000000000000',
    roleId: await created(`/v1/orgs/${orgId}/roles`, { name: 'Boundary', permissions: ['org:read'] }, 'roleId'),
    modelId: await created(
      `/v1/orgs/${orgId}/models`,
      {
        providerSlug: 'openai',
        providerModelId: 'ft:gpt-4o-mini:boundary',
        name: 'Boundary',
        type: 'TEXT',
        pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
      },
      'modelId',
    ),
    credentialId: await created(`/v1/orgs/${orgId}/provider-credentials`, credential, 'credentialId'),
    ruleId: await created(
      `/v1/orgs/${orgId}/routing-rules`,
      { name: 'Boundary', priority: 1, modelType: 'TEXT', targets: [{ modelId: 'local-chat' }] },
      'ruleId',
    ),
  };
  myIds = { ...ids, credentialId: await created('/v1/me/provider-credentials', credential, 'credentialId') };
});

/** Routes that would end the caller's session or membership, which the next requests need. */
const ENDS_THE_CALLER = new Set([
  'deleteMe',
  'signOut',
  'deleteOrg',
  'leaveOrg',
  'revokeMySession',
  'mfaDisable',
  'transferOwnership',
]);

/**
 * What the whole platform shares (plans, providers, the catalogue, global routing rules,
 * platform keys, agent configuration): other suites run beside this one and read it.
 */
const changesThePlatform = (path: string) => path.startsWith('/v1/admin/') && !path.includes('{orgId}');

/** The gateway's calls go to the local models, which answer here (the catalogue's defaults are on Bedrock). */
const LOCAL_MODEL: Record<string, string> = {
  createChatCompletion: 'local-chat',
  createEmbeddings: 'local-embed',
  createImages: 'local-image',
};

const pathOf = (route: RouteDefinition) => {
  const params = route.path.startsWith('/v1/me/') ? myIds : ids;
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]!);
};
const skipped = (route: RouteDefinition) => ENDS_THE_CALLER.has(route.id) || changesThePlatform(route.path) || route.localOnly;
const as = (route: RouteDefinition) => (route.auth === 'public' ? {} : { token: admin.accessToken });

describe('valid input at its edges never gets a 5xx, across the route manifest', () => {
  for (const route of routes) {
    const schema = route.schemas.body;
    if (!schema || skipped(route)) continue;
    it(`${route.method} ${route.path}`, async () => {
      const path = pathOf(route);
      const model = LOCAL_MODEL[route.id];
      const bodies = boundaryValues(schema, { ...EXISTING_NAMES, baseUrl: [fake().baseUrl('openai')] })
        .map((body) => (model ? { ...(body as object), model } : body))
        .filter((body) => schema.safeParse(body).success);
      for (const body of bodies) {
        const res = await api(route.method, path, { ...as(route), body });
        const sent = JSON.stringify(body).slice(0, 300);
        expect(res.status, `${route.id} ${sent} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
      }
    });
  }

  for (const route of routes) {
    const schema = route.schemas.query;
    if (!schema || skipped(route)) continue;
    it(`${route.method} ${route.path}?…`, async () => {
      for (const query of boundaryValues(schema, EXISTING_NAMES)) {
        const search = new URLSearchParams(Object.entries(query as object).map(([k, v]): [string, string] => [k, String(v)]));
        const res = await api(route.method, `${pathOf(route)}?${search}`, as(route));
        expect(
          res.status,
          `${route.id}?${search.toString().slice(0, 300)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
        ).toBeLessThan(500);
      }
    });
  }
});
