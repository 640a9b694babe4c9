import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createTeam,
  errorPaths,
  signUpPlatformAdmin,
  signUpUser,
  type ApiResponse,
  type SignedInUser,
} from '../helpers/api.ts';

/**
 * A number DynamoDB cannot hold (closer to zero than 1e-130: it answers "Number underflow") in a
 * model's `defaults` is a 400 naming the field, as in free-form JSON, never the write's 500; the
 * model is left as it was. The smallest number it holds is stored and read back as sent.
 */
let owner: SignedInUser;
let admin: SignedInUser;
let orgId: string;
let modelId: string;

const model = {
  providerSlug: 'openai',
  providerModelId: 'ft:gpt-4o-mini:tiny',
  name: 'Tiny numbers',
  type: 'TEXT',
  pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
};

/** The body as a client writes it: the number as typed (5e-324 is not what JSON.stringify writes for every value). */
const withNumber = (body: object, number: string) => JSON.stringify(body).replace('"__N__"', number);
const send = (method: string, path: string, token: string, text: string) =>
  api(method, path, { token, rawBody: text, headers: { 'content-type': 'application/json' } });

function expectRefused(res: ApiResponse, path: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(errorPaths(res.body)).toEqual([path]);
  expect(res.body.errors[0].message).toMatch(/1e-130/);
}

beforeAll(async () => {
  [owner, admin] = await Promise.all([signUpUser('tiny-numbers'), signUpPlatformAdmin('tiny-numbers-admin')]);
  ({ orgId } = await createTeam(owner));
  const created = await api('POST', `/v1/orgs/${orgId}/models`, {
    token: owner.accessToken,
    body: { ...model, defaults: { temperature: 0.5, topP: 0.9 } },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  modelId = created.body.modelId;
}, 60_000);

describe('a model’s default temperature and topP', () => {
  it('closer to zero than 1e-130 are a 400 on the field when a custom model is created', async () => {
    for (const [field, number] of [
      ['temperature', '1e-200'],
      ['topP', '5e-324'],
    ] as const) {
      const body = { ...model, providerModelId: 'ft:gpt-4o-mini:tiny-b', defaults: { [field]: '__N__' } };
      const res = await send('POST', `/v1/orgs/${orgId}/models`, owner.accessToken, withNumber(body, number));
      expectRefused(res, `body.defaults.${field}`);
    }
    const listed = await api('GET', `/v1/orgs/${orgId}/models`, { token: owner.accessToken });
    expect(listed.body.items.map((m: { modelId: string }) => m.modelId)).toEqual([modelId]);
  });

  it('closer to zero than 1e-130 are a 400 on the field when a model is changed, and it stays as it was', async () => {
    const path = `/v1/orgs/${orgId}/models/${modelId}`;
    expectRefused(await send('PATCH', path, owner.accessToken, '{"defaults":{"topP":5e-324}}'), 'body.defaults.topP');
    const read = await api('GET', path, { token: owner.accessToken });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.defaults).toEqual({ temperature: 0.5, topP: 0.9 });
  });

  it('closer to zero than 1e-130 are a 400 in a platform admin’s catalogue model', async () => {
    const body = { ...model, providerModelId: 'gpt-tiny', defaults: { temperature: '__N__' } };
    expectRefused(
      await send('PUT', '/v1/admin/models/tiny-numbers-model', admin.accessToken, withNumber(body, '1e-131')),
      'body.defaults.temperature',
    );
    expect((await api('GET', '/v1/models/tiny-numbers-model', { token: admin.accessToken })).status).toBe(404);
  });

  it('as small as 1e-130, or 0, are stored and read back as sent', async () => {
    const path = `/v1/orgs/${orgId}/models/${modelId}`;
    const res = await send('PATCH', path, owner.accessToken, '{"defaults":{"temperature":1e-130,"topP":0}}');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await api('GET', path, { token: owner.accessToken })).body.defaults).toEqual({ temperature: 1e-130, topP: 0 });
  });
});
