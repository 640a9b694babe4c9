import { openApiDocument } from './openapi.ts';

/** The environment variable that holds the gateway's URL where another server than the API's serves it (AWS). */
export const GATEWAY_URL_ENV = 'GATEWAY_URL';

let json: string | undefined;

/**
 * `GET /openapi.json`'s body, built on first use: the local server's includes its `/local/*`
 * routes. A function's bundle holds it already built, as the deployed API serves it
 * (`prebuiltOpenApi` in `infra/constructs/esbuild.ts`): building it loads and builds every
 * route's schemas, which made `platform/openapi` the slowest cold start of all. The gateway's
 * operations name its URL when `GATEWAY_URL` holds one (the stack sets it from the function URL).
 */
export function openApiJson(): string {
  const gatewayUrl = process.env[GATEWAY_URL_ENV];
  json ??= JSON.stringify(
    openApiDocument({ includeLocal: Boolean(process.env.LOCAL_CLOUD), ...(gatewayUrl ? { gatewayUrl } : {}) }),
  );
  return json;
}
