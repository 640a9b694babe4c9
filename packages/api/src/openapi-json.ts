import { openApiDocument } from './openapi.ts';

let json: string | undefined;

/**
 * `GET /openapi.json`'s body, built on first use: the local server's includes its `/local/*`
 * routes. A function's bundle holds it already built, as the deployed API serves it
 * (`prebuiltOpenApi` in `infra/constructs/esbuild.ts`): building it loads and builds every
 * route's schemas, which made `platform/openapi` the slowest cold start of all.
 */
export function openApiJson(): string {
  json ??= JSON.stringify(openApiDocument({ includeLocal: Boolean(process.env.LOCAL_CLOUD) }));
  return json;
}
