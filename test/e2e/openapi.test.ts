import { describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import { openApiDocument } from '@platform/api/openapi';
import { api } from '../helpers/api.ts';

describe.concurrent('the published API description', () => {
  it('is OpenAPI 3.1 with every deployed route under its path and method, its operationId the route id', async () => {
    const res = await api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const deployed = routes.filter((r) => !r.localOnly);
    expect(deployed.length).toBeGreaterThan(40);
    for (const route of deployed) {
      const operation = doc.paths?.[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation.operationId).toBe(route.id);
      expect(operation.summary).toBe(route.summary);
      expect(operation.responses[String(route.successStatus ?? 200)], `${route.id} success response`).toBeDefined();
      if (route.permission) expect(operation['x-permission']).toBe(route.permission);
      if (route.auth === 'public') expect(operation.security).toEqual([]);
      else expect(operation.security.length).toBeGreaterThan(0);
      if (route.schemas.body)
        expect(operation.requestBody?.content?.['application/json']?.schema, `${route.id} body`).toBeDefined();
    }
    const operationIds = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) =>
      Object.values(ops).map((o) => o.operationId),
    );
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('describes path parameters, idempotency keys and the shape of problems', async () => {
    const { body: doc } = await api('GET', '/openapi.json');
    const updateMember = doc.paths['/v1/orgs/{orgId}/members/{userId}'].patch;
    const names = updateMember.parameters.filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name);
    expect(names.sort()).toEqual(['orgId', 'userId']);
    const createOrg = doc.paths['/v1/orgs'].post;
    expect(createOrg.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    expect(createOrg.requestBody.content['application/json'].schema.properties).toHaveProperty('slug');
    expect(createOrg.responses['409'].content['application/problem+json']).toBeDefined();
    expect(doc.components.schemas.Problem.required).toEqual(['type', 'title', 'status']);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(expect.arrayContaining(['cognito', 'apiKey']));
    // No secret field is described in a response.
    const createdClient = JSON.stringify(doc.paths['/v1/orgs/{orgId}/api-clients'].get.responses['200']);
    expect(createdClient).not.toContain('secretHash');
  });

  it('serves human-readable documentation at /docs', async () => {
    const res = await api('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.body).toMatch(/^<!doctype html>/i);
    expect(res.body).toContain('openapi.json');
  });
});

describe('OpenAPI media types', () => {
  it('describe raw answers by what they are: CSV export as text/csv, docs as text/html', async () => {
    const { body } = await api('GET', '/openapi.json');
    expect(Object.keys(body.paths['/v1/orgs/{orgId}/usage/export.csv'].get.responses['200'].content)).toEqual(['text/csv']);
    expect(Object.keys(body.paths['/docs'].get.responses['200'].content)).toEqual(['text/html']);
  });

  it('publish a streamed chat completion as text/event-stream beside JSON, the routes that cannot stream JSON only', async () => {
    const { body } = await api('GET', '/openapi.json');
    const success = (path: string) => body.paths[path].post.responses['200'].content;
    const chat = success('/openai/v1/chat/completions');
    expect(Object.keys(chat)).toEqual(['application/json', 'text/event-stream']);
    expect(chat['text/event-stream'].schema).toEqual({
      type: 'string',
      description: expect.stringContaining('chat.completion.chunk'),
    });
    expect(chat['text/event-stream'].schema.description).toContain('data: [DONE]');
    for (const path of ['/openai/v1/embeddings', '/openai/v1/images/generations'])
      expect(Object.keys(success(path)), path).toEqual(['application/json']);
  });
});

describe('the /docs page', () => {
  it('its script renders one entry per operation of the served /openapi.json, raw answers included', async () => {
    const page: string = (await api('GET', '/docs')).body;
    const { body: doc } = await api('GET', '/openapi.json');
    const script = page.match(/<script>([\s\S]*?)<\/script>/)![1]!;
    // Just enough DOM for the script: the description and the element it fills.
    let html = '';
    const app = {
      set innerHTML(value: string) {
        html = value;
      },
      insertAdjacentHTML: (_where: string, chunk: string) => (html += chunk),
    };
    const elements: Record<string, unknown> = { desc: { textContent: '' }, app };
    const document = { getElementById: (id: string) => elements[id] };
    const fetchDoc = async () => ({ json: async () => doc });
    const run = new Function('fetch', 'document', `return ${script.trim()}`) as (f: unknown, d: unknown) => Promise<void>;
    await run(fetchDoc, document);
    const operations = Object.values(doc.paths as Record<string, object>).flatMap((ops) => Object.keys(ops)).length;
    expect(operations).toBeGreaterThan(40);
    expect(html.match(/<details>/g)?.length).toBe(operations);
    expect(html).toContain('text/csv');
  });
});

describe('OpenAPI failures', () => {
  it('documents 429 with Retry-After where limits apply, and 402 where credits or a payment can be missing', async () => {
    const { body: doc } = await api('GET', '/openapi.json');
    const responses = (path: string, method: string) => doc.paths[path][method].responses;
    for (const route of routes.filter((r) => !r.localOnly && (r.consumes || r.auth === 'principal'))) {
      const tooMany = responses(route.path, route.method.toLowerCase())['429'];
      expect(tooMany, `${route.id} 429`).toBeDefined();
      expect(tooMany.headers['Retry-After']).toBeDefined();
    }
    expect(responses('/openai/v1/chat/completions', 'post')).toHaveProperty('429');
    expect(responses('/v1/orgs/{orgId}/members', 'get')).toHaveProperty('429'); // API clients consume `api`
    expect(responses('/v1/orgs/{orgId}/subscription', 'put')).toHaveProperty('402');
    expect(responses('/openai/v1/chat/completions', 'post')).toHaveProperty('402');
    expect(responses('/v1/me', 'get')).not.toHaveProperty('429');
  });

  it('documents the AI gateway’s errors in the OpenAI shape it answers, and problem+json elsewhere', async () => {
    const { body: doc } = await api('GET', '/openapi.json');
    const res = await api('POST', '/openai/v1/chat/completions', { body: {} });
    expect(res.status).toBe(401);
    const documented = doc.paths['/openai/v1/chat/completions'].post.responses['401'].content;
    expect(Object.keys(documented)).toEqual([res.headers.get('content-type')!.split(';')[0]]);
    expect(documented['application/json'].schema.$ref).toBe('#/components/schemas/OpenAiError');
    expect(Object.keys(res.body.error).sort()).toEqual(
      Object.keys(doc.components.schemas.OpenAiError.properties.error.properties).sort(),
    );
    expect(Object.keys(doc.paths['/v1/orgs'].post.responses['400'].content)).toEqual(['application/problem+json']);
  });
});

describe('the AI gateway’s operations', () => {
  const gateway = routes.filter((route) => route.surface === 'gateway');
  const operationOf = (doc: ReturnType<typeof openApiDocument>, route: (typeof routes)[number]) =>
    doc.paths[route.path]![route.method.toLowerCase()] as { servers?: unknown };

  it('name no server of their own where one server serves the whole API (locally)', async () => {
    const { body: served } = await api('GET', '/openapi.json');
    expect(served.servers).toBeUndefined();
    for (const route of gateway) expect(operationOf(served, route).servers, route.id).toBeUndefined();
  });

  it('name the gateway’s URL where it serves them apart from the API (AWS: its function URL), and only theirs', () => {
    const gatewayUrl = 'https://abc123.lambda-url.us-east-1.on.aws';
    const doc = openApiDocument({ includeLocal: false, gatewayUrl });
    expect(gateway.length).toBe(5);
    for (const route of routes.filter((r) => !r.localOnly)) {
      const expected = route.surface === 'gateway' ? [{ url: gatewayUrl, description: expect.any(String) }] : undefined;
      expect(operationOf(doc, route).servers, route.id).toEqual(expected);
    }
  });
});
