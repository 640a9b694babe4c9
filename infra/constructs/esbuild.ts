import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildSync, type BuildOptions, type Metafile } from 'esbuild';
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

/** How the functions run their bundles: stack traces through the source maps. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/**
 * ESM for Node.js 22, minified, with a source map (run with --enable-source-maps), and
 * everything inside, the AWS SDK included: the SDK version we test (pinned by the lock file)
 * is the version we run.
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
 * it loads with `import()`. One esbuild run over many handlers would take seconds instead of
 * about a second per handler, but it splits the code handlers share into a chunk per set of
 * handlers using it: a cold start then loads a dozen more small files, and the first call
 * twenty more, each costing about a millisecond with its source map (measured: +10% on the
 * cold start and first call of `GET /v1/me`).
 */
export function bundleFunctions(entries: Iterable<string>, outdir: string): Map<string, FunctionBundle> {
  return new Map([...new Set(entries)].map((entry) => [entry, bundleFunction(entry, outdir)]));
}

function bundleFunction(entry: string, outdir: string): FunctionBundle {
  const dir = join(outdir, bundleName(entry));
  rmSync(dir, { recursive: true, force: true });
  const { metafile } = buildSync({ ...ESBUILD_OPTIONS, entryPoints: { index: entry }, outdir: dir, metafile: true });
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
