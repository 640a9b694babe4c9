import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, signUpUser, type SignedInUser } from '../helpers/api.ts';
import { gateway, strategyOrg } from '../helpers/gateway.ts';
import { useFakeProvider } from '../helpers/use-fake-provider.ts';

/**
 * gpt-image's output options (`output_format`, `output_compression`, `background`, `moderation`)
 * are sent to no provider: one that would change the image is a 400 naming it, never dropped.
 */
const fake = useFakeProvider();
let owner: SignedInUser;
beforeAll(async () => {
  owner = await signUpUser('gwimgopts');
});
const asOrg = (orgId: string) => ({ 'openai-organization': orgId });

/** A fresh organization with its own OpenAI key, at the fake provider, and gpt-image-1 on it. */
async function imageModel() {
  const orgId = await strategyOrg(owner, 'BYOK');
  const created = await api('POST', `/v1/orgs/${orgId}/provider-credentials`, {
    token: owner.accessToken,
    body: {
      label: 'k',
      providerSlug: 'openai',
      key: `sk-byok-${randomUUID().replace(/-/g, '')}`,
      baseUrl: fake().baseUrl('openai'),
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const made = await api('POST', `/v1/orgs/${orgId}/models`, {
    token: owner.accessToken,
    body: {
      providerSlug: 'openai',
      providerModelId: 'gpt-image-1',
      name: 'gpt-image-1 (own key)',
      type: 'IMAGE',
      capabilities: ['images'],
      pricing: { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: 40_000 },
    },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return { orgId, modelId: made.body.modelId as string };
}

describe('images: gpt-image output options', () => {
  it('refuses one that would change the image with a 400 naming it, calling no provider; takes the defaults', async () => {
    const { orgId, modelId } = await imageModel();
    const call = (body: Record<string, unknown>) =>
      gateway(
        '/images/generations',
        { token: owner.accessToken },
        { model: modelId, prompt: 'a lighthouse', ...body },
        asOrg(orgId),
      );
    const refusals: Array<[string, unknown]> = [
      ['output_format', 'jpeg'],
      ['output_format', 'webp'],
      ['output_compression', 50],
      ['background', 'transparent'],
      ['moderation', 'low'],
    ];
    for (const [param, value] of refusals) {
      const refused = await call({ [param]: value });
      expect([refused.status, refused.body.error], `${param}: ${JSON.stringify(value)}`).toMatchObject([
        400,
        { type: 'invalid_request_error', param },
      ]);
    }
    expect(fake().requests.filter((r) => r.operation === 'images')).toEqual([]);
    // What changes nothing is served.
    const served = await call({ background: 'auto', moderation: 'auto', output_format: null, output_compression: null });
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    expect(served.body.data).toHaveLength(1);
  });
});

describe('images: gpt-image sizes', () => {
  it('sends its landscape and portrait sizes on as asked, and auto as no size (the model decides)', async () => {
    const { orgId, modelId } = await imageModel();
    const sent = async (size: string) => {
      const before = fake().requests.length;
      const served = await gateway(
        '/images/generations',
        { token: owner.accessToken },
        { model: modelId, prompt: 'a lighthouse', size },
        asOrg(orgId),
      );
      expect(served.status, `${size}: ${JSON.stringify(served.body)}`).toBe(200);
      const [request] = fake()
        .requests.slice(before)
        .filter((r) => r.operation === 'images');
      return request!.body;
    };
    expect(await sent('1536x1024')).toMatchObject({ size: '1536x1024' });
    expect(await sent('1024x1536')).toMatchObject({ size: '1024x1536' });
    expect(await sent('auto')).not.toHaveProperty('size');
  });
});
