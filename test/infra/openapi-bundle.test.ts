import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '@platform/api/openapi';
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

describe('the bundled platform/openapi function', () => {
  it('answers the deployed API’s document, built when bundling, without the route manifest', async () => {
    const [bundle] = [...(await bundleFunctions([handlerEntry(functionsDir, 'platform/openapi')], outdir)).values()];
    const source = readFileSync(join(bundle!.dir, 'index.mjs'), 'utf8');
    // Other routes appear in the document as paths, not as the manifest's definitions (with their handlers).
    const billing = routes.find((route) => route.handler.startsWith('billing/'))!;
    expect(source).not.toContain(`"${billing.handler}"`);
    const local = routes.find((route) => route.localOnly)!;

    const { handler } = (await import(pathToFileURL(join(bundle!.dir, 'index.mjs')).href)) as {
      handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
    };
    const response = await handler(event(), localLambdaContext('openApi', 'us-east-1', 10_000));
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    const served = JSON.parse(response.body!) as ReturnType<typeof openApiDocument>;
    expect(served).toEqual(openApiDocument({ includeLocal: false }));
    expect(Object.keys(served.paths)).not.toContain(local.path);
    expect(Object.keys(served.paths)).toContain('/v1/me');
  });
});
