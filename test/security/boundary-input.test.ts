import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import { api, createTeam, signUpPlatformAdmin, type SignedInUser } from '../helpers/api.ts';
import { boundaryValues } from '../helpers/boundary-values.ts';

/**
 * Valid input at its edges, route by route from the manifest: the shortest and longest strings
 * (the longest in astral characters, four bytes each), numbers at their bounds, full arrays,
 * optional fields left out or all sent (`boundaryValues`). The bad-input suite proves that
 * invalid requests stop at validation; these pass it, so they reach the domain, DynamoDB and
 * the model adapters, and must still never get a 5xx. Sent by a platform admin who owns a
 * team, on that team, so that authorization lets them through.
 */
let admin: SignedInUser;
let ids: Record<string, string>;
beforeAll(async () => {
  admin = await signUpPlatformAdmin('boundary');
  const { orgId } = await createTeam(admin);
  const role = await api('POST', `/v1/orgs/${orgId}/roles`, {
    token: admin.accessToken,
    body: { name: 'Boundary', permissions: ['org:read'] },
  });
  expect(role.status).toBe(201);
  ids = {
    orgId,
    userId: admin.userId,
    roleId: role.body.roleId,
    sessionId: admin.sessionId,
    invitationId: 'inv_01jq0000000000000000000000',
    clientId: 'ak_01jq0000000000000000000000',
    credentialId: 'pcr_01jq0000000000000000000000',
    ruleId: 'rtr_01jq0000000000000000000000',
    modelId: 'mdl_01jq0000000000000000000000',
  };
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

describe('valid input at its edges never gets a 5xx, across the route manifest', () => {
  for (const route of routes) {
    const schema = route.schemas.body;
    if (!schema || ENDS_THE_CALLER.has(route.id) || changesThePlatform(route.path) || route.localOnly) continue;
    it(`${route.method} ${route.path}`, async () => {
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
      const model = LOCAL_MODEL[route.id];
      const bodies = boundaryValues(schema)
        .map((body) => (model ? { ...(body as object), model } : body))
        .filter((body) => schema.safeParse(body).success);
      for (const body of bodies) {
        const res = await api(route.method, path, route.auth === 'public' ? { body } : { token: admin.accessToken, body });
        const sent = JSON.stringify(body).slice(0, 300);
        expect(res.status, `${route.id} ${sent} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
      }
    });
  }
});
