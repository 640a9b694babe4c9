import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { electrodbSdk as handedOver } from '../../packages/domain/src/shared/electrodb-sdk.ts';
import { repoRoot, tsconfigFile } from '../paths.ts';

/**
 * How every function is bundled, in one place: the CDK stacks deploy what this builds
 * (`bundles.ts`) and `npm run bench` times what this builds, so the benchmark measures what
 * deploys. No aws-cdk-lib here: the bench loads it without the CDK.
 */

/**
 * esbuild's ESM output has no `require`; bundled CommonJS dependencies that require Node
 * built-ins need one, so every bundle and chunk starts with this shim. It creates the real
 * `require` on first call: createRequire costs about a millisecond and a half per file, and
 * most chunks never require anything (esbuild's `__require` helper only calls it).
 */
export const ESM_REQUIRE_SHIM =
  "import { createRequire as __platformCreateRequire } from 'node:module'; let __platformRequire; const require = (id) => (__platformRequire ??= __platformCreateRequire(import.meta.url))(id);";

export const TARGET = 'node22';
export const MAIN_FIELDS = ['module', 'main'];

/** Where ElectroDB's SDK modules are handed over (see that file). */
const ELECTRODB_SDK = join(repoRoot, 'packages/domain/src/shared/electrodb-sdk.ts');

/**
 * What ElectroDB gets for `jsonschema` in a bundle: a validator that finds every model valid.
 * ElectroDB checks an entity's model against its JSON Schemas each time it builds the entity:
 * about 5 ms per entity on a cold container's first request (and 3 ms at init for the library).
 * Our models are fixed in the code, and `entity-models.test.ts` builds every one of them with the
 * real check on each test run, so a bundle skips it.
 */
const MODELS_CHECKED_IN_TESTS = `class Validator { addSchema() {} validate() { return { valid: true, errors: [] }; } }
Validator.prototype.customFormats = {};
module.exports = { Validator };`;

/**
 * ElectroDB (CommonJS), bundled:
 *  - it `require`s two AWS SDK modules. Bundled as they are, those `require`s make esbuild wrap
 *    the whole SDK, ES modules, in closures run on first use: +25 ms on every cold start. Each
 *    is answered with its object in `electrodb-sdk.ts`, which `dynamo.ts` fills from the SDK as
 *    ES modules import it. Any other SDK module ElectroDB may come to require stops the build,
 *    so that it is handed over the same way rather than wrapping the SDK again;
 *  - its model check is skipped (`MODELS_CHECKED_IN_TESTS`).
 */
export const electrodbInBundles: Plugin = {
  name: 'electrodb-in-bundles',
  setup(build) {
    const fromElectrodb = (importer: string) => /[\\/]node_modules[\\/]electrodb[\\/]/.test(importer);
    build.onResolve({ filter: /^@aws-sdk\// }, ({ path, importer, kind }) => {
      if (kind !== 'require-call' || !fromElectrodb(importer)) return undefined;
      if (!Object.hasOwn(handedOver, path)) {
        return { errors: [{ text: `ElectroDB requires ${path}: hand it over in electrodb-sdk.ts and dynamo.ts` }] };
      }
      return { path, namespace: 'electrodb-sdk' };
    });
    build.onResolve({ filter: /^jsonschema$/ }, ({ path, importer }) =>
      fromElectrodb(importer) ? { path, namespace: 'electrodb-models' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'electrodb-sdk' }, ({ path }) => ({
      contents: `module.exports = require(${JSON.stringify(ELECTRODB_SDK)}).electrodbSdk[${JSON.stringify(path)}];`,
      loader: 'js',
      resolveDir: repoRoot,
    }));
    build.onLoad({ filter: /.*/, namespace: 'electrodb-models' }, () => ({ contents: MODELS_CHECKED_IN_TESTS, loader: 'js' }));
  },
};

/** Where `GET /openapi.json`'s body is built (see that file). */
const OPENAPI_JSON = join(repoRoot, 'packages/api/src/openapi-json.ts');

/** Stands for the gateway's URL in the prebuilt document until the function reads it from its environment. */
const GATEWAY_URL_SLOT = '{{gateway-url}}';

let deployedOpenApi: Promise<string> | undefined;

/**
 * `GET /openapi.json`'s body, built when bundling: a function that imports `openapi-json.ts`
 * gets a module that holds the document as the deployed API serves it (no `/local/*` routes)
 * instead of the manifest, every route's schemas and the code that turns them into JSON Schema
 * (`platform/openapi`'s cold import went from 2.7× the bare handler to that of `platform/health`).
 * The gateway's URL is known only once deployed: the document is built with a slot for it, which
 * the function fills from `GATEWAY_URL` on first use; without one the gateway's `servers` go, as
 * `openApiJson()` leaves them out unbundled.
 */
export const prebuiltOpenApi: Plugin = {
  name: 'prebuilt-openapi',
  setup(build) {
    build.onResolve({ filter: /^@platform\/api\/openapi-json$/ }, () => ({ path: OPENAPI_JSON, namespace: 'prebuilt-openapi' }));
    build.onLoad({ filter: /.*/, namespace: 'prebuilt-openapi' }, async () => {
      deployedOpenApi ??= prebuiltOpenApiModule();
      return { contents: await deployedOpenApi, loader: 'js' };
    });
  },
};

async function prebuiltOpenApiModule(): Promise<string> {
  const [{ openApiDocument, gatewayServers }, { GATEWAY_URL_ENV }] = await Promise.all([
    import('../../packages/api/src/openapi.ts'),
    import('../../packages/api/src/openapi-json.ts'),
  ]);
  const json = JSON.stringify(openApiDocument({ includeLocal: false, gatewayUrl: GATEWAY_URL_SLOT }));
  // An operation's `servers` come first in it, so this is how each appears in the document.
  const servers = `"servers":${JSON.stringify(gatewayServers(GATEWAY_URL_SLOT))},`;
  const inJson = (text: string) => JSON.stringify(text).slice(1, -1);
  return [
    `const json = ${JSON.stringify(json)};`,
    `export const GATEWAY_URL_ENV = ${JSON.stringify(GATEWAY_URL_ENV)};`,
    'let served;',
    'export const openApiJson = () => {',
    `  const url = process.env[GATEWAY_URL_ENV];`,
    `  return (served ??= url ? json.replaceAll(${JSON.stringify(inJson(GATEWAY_URL_SLOT))}, JSON.stringify(url).slice(1, -1)) : json.replaceAll(${JSON.stringify(servers)}, ''));`,
    '};',
  ].join('\n');
}

/**
 * ESM for Node.js 22, minified, with a source map, and
 * everything inside, the AWS SDK included: the SDK version we test (pinned by the lock file)
 * is the version we run.
 *
 * The functions run without `--enable-source-maps`, which reads every file's map at every cold
 * start (~15 ms): the logger tells a logged error's stack in the sources from the maps then
 * (`packages/http/src/source-stack.ts`).
 *
 * `GET /openapi.json`'s body is built here, once (`prebuiltOpenApi`).
 *
 * Code splitting: what only some requests load with `import()` (the tracer, the API-key lookup,
 * Idempotency-Key records, usage limits) goes into chunks that Node reads only when that
 * `import()` runs (see README, "Cold starts").
 */
export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: TARGET,
  mainFields: MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_SHIM },
  minify: true,
  legalComments: 'none',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  sourcesContent: false,
  outExtension: { '.js': '.mjs' },
  tsconfig: tsconfigFile,
  absWorkingDir: repoRoot,
  logLevel: 'error',
  plugins: [electrodbInBundles, prebuiltOpenApi],
} satisfies BuildOptions;

/** A built function: its folder (deployable as is, handler `index.handler`) and what it holds. */
export interface FunctionBundle {
  dir: string;
  /** Bytes a cold start loads: `index.mjs` and the chunks it imports statically. */
  initBytes: number;
  /** How many files a cold start loads. */
  initFiles: number;
  /** Bytes of the chunks it may load later, with `import()`. */
  lazyBytes: number;
}

/** `<repo>/functions/identity/get-me.ts` → `functions/identity/get-me`. */
export const bundleName = (entry: string) => relative(repoRoot, entry).replace(/\.[cm]?[jt]sx?$/, '');

/**
 * Bundles each handler on its own into `<outdir>/<bundleName>/`: `index.mjs` and the `chunks/`
 * it loads with `import()`, all at once. One esbuild run over many handlers would be faster
 * still, but it splits the code handlers share into a chunk per set of
 * handlers using it: a cold start then loads a dozen more small files, and the first call
 * twenty more, each costing about a millisecond with its source map (measured: +10% on the
 * cold start and first call of `GET /v1/me`).
 */
export async function bundleFunctions(entries: Iterable<string>, outdir: string): Promise<Map<string, FunctionBundle>> {
  const unique = [...new Set(entries)];
  return new Map(await Promise.all(unique.map(async (entry) => [entry, await bundleFunction(entry, outdir)] as const)));
}

/**
 * `bundleFunctions` for callers that cannot wait (a CDK construct builds its stack synchronously):
 * esbuild runs plugins only in its asynchronous API, so this runs it in a child process and
 * waits for it.
 */
export function bundleFunctionsSync(entries: Iterable<string>, outdir: string): Map<string, FunctionBundle> {
  const output = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bundle-functions.ts')], {
    cwd: repoRoot,
    input: JSON.stringify({ entries: [...new Set(entries)], outdir }),
    stdio: ['pipe', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return new Map(JSON.parse(output.toString()) as [string, FunctionBundle][]);
}

async function bundleFunction(entry: string, outdir: string): Promise<FunctionBundle> {
  const dir = join(outdir, bundleName(entry));
  rmSync(dir, { recursive: true, force: true });
  const { metafile } = await build({ ...ESBUILD_OPTIONS, entryPoints: { index: entry }, outdir: dir, metafile: true });
  const output = (file: string) => relative(repoRoot, join(dir, file));
  const index = output('index.mjs');
  const atInit = [index, ...importsOf(metafile, index, false)];
  const all = [index, ...importsOf(metafile, index, true)];
  const bytes = (files: string[]) => files.reduce((sum, file) => sum + metafile.outputs[file]!.bytes, 0);
  return {
    dir,
    initBytes: bytes(atInit),
    initFiles: atInit.length,
    lazyBytes: bytes(all) - bytes(atInit),
  };
}

/** The chunks an output imports, directly or not: statically only, or with `import()` too. */
function importsOf(metafile: Metafile, output: string, dynamic: boolean): string[] {
  const found = new Set<string>();
  const visit = (from: string) => {
    for (const { path, kind, external } of metafile.outputs[from]?.imports ?? []) {
      if (external || found.has(path) || (!dynamic && kind === 'dynamic-import')) continue;
      found.add(path);
      visit(path);
    }
  };
  visit(output);
  return [...found];
}
