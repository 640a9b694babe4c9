import { beforeAll, describe, expect, it } from 'vitest';
import { api, baseUrl, createTeam, errorPaths, signUpUser, type SignedInUser } from '../helpers/api.ts';

/** Request bodies as bytes on the wire: how deep, which charset, which JSON values are stored. */
let user: SignedInUser;
let orgId: string;
let key: string;

beforeAll(async () => {
  user = await signUpUser('bodies', 'Body Tester');
  ({ orgId } = await createTeam(user));
  const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
    token: user.accessToken,
    body: { name: 'Bodies', scopes: ['gateway:invoke', 'provider-credentials:manage', 'provider-credentials:read'] },
  });
  key = created.body.key;
});

/** Sends bytes as they are, with the content type given. */
const send = async (method: string, path: string, body: Buffer | string, contentType: string, token = user.accessToken) => {
  const res = await fetch(baseUrl() + path, {
    method,
    body,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: JSON.parse(text) };
};
const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const fullName = async () => (await api('GET', '/v1/me', { token: user.accessToken })).body.fullName;

describe('request bodies', () => {
  it('refuses a body nested 10,000 levels deep with 400 problem+json, on the API and the AI gateway', async () => {
    const me = await send('PATCH', '/v1/me', `{"settings":${deep(10_000)}}`, 'application/json');
    expect(me.status).toBe(400);
    expect(me.type).toContain('application/problem+json');
    expect(me.body.detail).toMatch(/nested more than 64 levels/);
    const chat = `{"model":"local-chat","messages":[{"role":"user","content":"hi"}],"extra":${deep(10_000)}}`;
    const gateway = await send('POST', '/openai/v1/chat/completions', chat, 'application/json', key);
    expect(gateway.status).toBe(400);
    expect(gateway.body.error.message).toMatch(/nested more than 64 levels/);
  });

  it('counts depth outside strings only: brackets inside a string are text', async () => {
    const res = await send('PATCH', '/v1/me', JSON.stringify({ fullName: '['.repeat(70) + '{"\\' }), 'application/json');
    expect(res.status).toBe(200);
  });

  it('refuses bytes that are not UTF-8 with 400 and stores nothing', async () => {
    const before = await fullName();
    const bad = Buffer.concat([Buffer.from('{"fullName":"Bad '), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await send('PATCH', '/v1/me', bad, 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/not valid UTF-8/);
    expect(await fullName()).toBe(before);
  });

  it('refuses a charset other than UTF-8 with 415, and takes an explicit utf-8', async () => {
    const latin1 = Buffer.from('{"fullName":"Zo\u00eb Lat\u00edn"}', 'latin1');
    const res = await send('PATCH', '/v1/me', latin1, 'application/json; charset=latin1');
    expect(res.status).toBe(415);
    expect(res.type).toContain('application/problem+json');
    const utf8 = await send('PATCH', '/v1/me', '{"fullName":"Zo\u00eb"}', 'application/json; charset=UTF-8');
    expect(utf8.status).toBe(200);
    expect(await fullName()).toBe('Zo\u00eb');
  });

  it('refuses a body that is not JSON with 415, and one past 256 KiB with 413', async () => {
    const body = '{"fullName":"Plain"}';
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'text/json']) {
      const res = await send('PATCH', '/v1/me', body, type);
      expect(res.status, type).toBe(415);
      expect(res.type).toContain('application/problem+json');
    }
    expect((await send('PATCH', '/v1/me', body, 'application/merge-patch+json')).status).toBe(200);
    const large = await send(
      'PATCH',
      '/v1/me',
      JSON.stringify({ fullName: 'Large', pad: 'x'.repeat(300 * 1024) }),
      'application/json',
    );
    expect(large.status).toBe(413);
    expect(large.body).toMatchObject({ status: 413, title: 'Payload too large' });
    expect(await fullName()).toBe('Plain');
  });

  it('takes a chat with a 4 MiB image inline and a 2 MiB batch of texts to embed; past 5 MiB a 413 in OpenAI’s shape', async () => {
    // A photo as a data URL is megabytes of base64: the gateway's model calls take up to 5 MiB, other routes 256 KiB.
    const image = `data:image/jpeg;base64,${Buffer.alloc(3 * 1024 * 1024, 7).toString('base64')}`;
    const chat = (url: string) =>
      JSON.stringify({
        model: 'local-chat',
        max_tokens: 20,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this picture?' },
              { type: 'image_url', image_url: { url } },
            ],
          },
        ],
      });
    const seen = await send('POST', '/openai/v1/chat/completions', chat(image), 'application/json', key);
    expect(seen.status, JSON.stringify(seen.body).slice(0, 300)).toBe(200);
    expect(seen.body).toMatchObject({ object: 'chat.completion', usage: { prompt_tokens: expect.any(Number) } });
    const texts = Array.from({ length: 64 }, (_, i) => `${i} ${'lighthouse '.repeat(3_000)}`);
    const embedded = await send(
      'POST',
      '/openai/v1/embeddings',
      JSON.stringify({ model: 'local-embed', input: texts }),
      'application/json',
      key,
    );
    expect(embedded.status, JSON.stringify(embedded.body).slice(0, 300)).toBe(200);
    expect(embedded.body.data).toHaveLength(64);

    const tooBig = `data:image/jpeg;base64,${Buffer.alloc(4 * 1024 * 1024, 7).toString('base64')}`;
    const refused = await send('POST', '/openai/v1/chat/completions', chat(tooBig), 'application/json', key);
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('5242880 bytes') },
    });
    // Elsewhere the limit stays 256 KiB (the test above).
  });

  it('refuses a credential config DynamoDB could not store with 400 naming the field', async () => {
    const credential = { label: 'Config', providerSlug: 'openai', key: 'sk-bodies-00000000000000' };
    for (const [config, path] of [
      ['{"organization":"x","n":18446744073709551616}', 'body.config.n'],
      [`{"x":${deep(10_000)}}`, 'body'],
      [`{"x":${deep(40)}}`, 'body.config.x'],
    ] as const) {
      const body = JSON.stringify(credential).replace(/}$/, `,"config":${config}}`);
      const res = await send('POST', `/v1/orgs/${orgId}/provider-credentials`, body, 'application/json');
      expect(res.status, config.slice(0, 40)).toBe(400);
      expect(errorPaths(res.body)[0] ?? 'body', config.slice(0, 40)).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')}`));
    }
  });
});
