import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openApiDocument } from '@platform/api/openapi';
import { GATEWAY_URL_ENV } from '@platform/api/openapi-json';
import { routes } from '@platform/api/manifest';
import { bundleFunctions } from '../../infra/constructs/esbuild.ts';
import { functionsDir, handlerEntry } from '../../infra/paths.ts';
import { localLambdaContext } from '@platform/local/lambda-context';

/**
 * `platform/openapi` is bundled with its document already built (`prebuiltOpenApi` in
 * `infra/constructs/esbuild.ts`): the function answers the document the deployed API describes,
 * without loading the routes' schemas at a cold start.
 */
const outdir = mkdtempSync(join(tmpdir(), 'platform-openapi-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const event = (): APIGatewayProxyEventV2 => ({
  version: '2.0',
  routeKey: 'GET /openapi.json',
  rawPath: '/openapi.json',
  rawQueryString: '',
  headers: { host: 'api.example.com' },
  isBase64Encoded: false,
  requestContext: {
    accountId: '000000000000',
    apiId: 'test',
    domainName: 'api.example.com',
    domainPrefix: 'api',
    http: { method: 'GET', path: '/openapi.json', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
    requestId: 'openapi-bundle-test',
    routeKey: 'GET /openapi.json',
    stage: '$default',
    time: new Date().toISOString(),
    timeEpoch: Date.now(),
  },
});

/** The handler of a fresh bundle (each module instance builds its body once). */
async function bundledHandler(into: string) {
  const [bundle] = [...(await bundleFunctions([handlerEntry(functionsDir, 'platform/openapi')], join(outdir, into))).values()];
  const { handler } = (await import(pathToFileURL(join(bundle!.dir, 'index.mjs')).href)) as {
    handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
  };
  return { bundle: bundle!, handler };
}

describe('the bundled platform/openapi function', () => {
  it('answers the deployed API’s document, built when bundling, without the route manifest', async () => {
    const { bundle, handler } = await bundledHandler('plain');
    const source = readFileSync(join(bundle.dir, 'index.mjs'), 'utf8');
    // Other routes appear in the document as paths, not as the manifest's definitions (with their handlers).
    const billing = routes.find((route) => route.handler.startsWith('billing/'))!;
    expect(source).not.toContain(`"${billing.handler}"`);
    const local = routes.find((route) => route.localOnly)!;

    const response = await handler(event(), localLambdaContext('openApi', 'us-east-1', 10_000));
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    const served = JSON.parse(response.body!) as ReturnType<typeof openApiDocument>;
    expect(served).toEqual(openApiDocument({ includeLocal: false }));
    expect(Object.keys(served.paths)).not.toContain(local.path);
    expect(Object.keys(served.paths)).toContain('/v1/me');
  });

  it('names the gateway’s URL from its environment (set by the stack) as the server of the gateway’s operations', async () => {
    const gatewayUrl = 'https://abc123.lambda-url.us-east-1.on.aws';
    const { handler } = await bundledHandler('with-gateway');
    vi.stubEnv(GATEWAY_URL_ENV, gatewayUrl);
    try {
      const response = await handler(event(), localLambdaContext('openApi', 'us-east-1', 10_000));
      const served = JSON.parse(response.body!) as ReturnType<typeof openApiDocument>;
      expect(served).toEqual(openApiDocument({ includeLocal: false, gatewayUrl }));
      expect(served.paths['/openai/v1/chat/completions']!.post).toMatchObject({ servers: [{ url: gatewayUrl }] });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
