import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Loader, type Metafile, type Plugin } from 'esbuild';
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
 * Code splitting: what a handler loads with `import()` (its domain module, and with it the AWS
 * SDK and ElectroDB; the tracer; the idempotency record) goes into chunks that Node reads only
 * when that `import()` runs, so a cold start parses and evaluates the HTTP kit and the route,
 * not the whole graph (see README, "Cold starts").
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
  /** The chunks the handler module itself loads with `import()` (its domain), relative to `dir`. */
  domainChunks: string[];
}

/** `<repo>/functions/identity/get-me.ts` → `functions/identity/get-me`. */
export const bundleName = (entry: string) => relative(repoRoot, entry).replace(/\.[cm]?[jt]sx?$/, '');

/**
 * Bundles handlers in one esbuild run (seconds for a whole stack, where an esbuild process
 * per function takes about a second each), then gives each its own folder under `outdir`:
 * `<bundleName>/index.mjs` and the chunks it imports, directly or through other chunks.
 */
export async function bundleFunctions(entries: Iterable<string>, outdir: string): Promise<Map<string, FunctionBundle>> {
  const unique = [...new Set(entries)];
  const staging = join(outdir, '.esbuild');
  const flat = (entry: string) => bundleName(entry).replace(/[/\\]/g, '__');
  const entryPoints = Object.fromEntries(unique.map((entry) => [flat(entry), entry]));
  const { metafile } = await build({
    ...ESBUILD_OPTIONS,
    entryPoints,
    outdir: staging,
    metafile: true,
    plugins: [initCodePerFunction(await lazyModules(entryPoints))],
  });

  const bundles = new Map<string, FunctionBundle>();
  for (const entry of unique) {
    const dir = join(outdir, bundleName(entry));
    rmSync(dir, { recursive: true, force: true });
    const entryOutput = relative(repoRoot, join(staging, `${flat(entry)}.mjs`));
    mkdirSync(dir, { recursive: true });
    // The entry becomes index.mjs beside a chunks/ folder, as in staging: chunk imports stay valid.
    const code = readFileSync(join(repoRoot, entryOutput), 'utf8').replace(
      `sourceMappingURL=${flat(entry)}.mjs.map`,
      'sourceMappingURL=index.mjs.map',
    );
    writeFileSync(join(dir, 'index.mjs'), code);
    relocateMap(join(repoRoot, `${entryOutput}.map`), join(dir, 'index.mjs.map'));
    const atInit = chunksOf(metafile, entryOutput, false);
    let initBytes = Buffer.byteLength(code);
    let lazyBytes = 0;
    for (const chunk of chunksOf(metafile, entryOutput, true)) {
      const target = join(dir, relative(staging, join(repoRoot, chunk)));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(repoRoot, chunk), target);
      relocateMap(join(repoRoot, `${chunk}.map`), `${target}.map`);
      if (atInit.has(chunk)) initBytes += metafile.outputs[chunk]!.bytes;
      else lazyBytes += metafile.outputs[chunk]!.bytes;
    }
    const domainChunks = metafile.outputs[entryOutput]!.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path);
    bundles.set(entry, {
      dir,
      initBytes,
      initFiles: atInit.size + 1,
      lazyBytes,
      domainChunks: domainChunks.map((chunk) => relative(staging, join(repoRoot, chunk))),
    });
  }
  rmSync(staging, { recursive: true, force: true });
  return bundles;
}

/**
 * The same, for synchronous callers (CDK constructs): esbuild runs plugins only in its
 * asynchronous API, so this runs `bundleFunctions` in a child Node process and waits for it.
 */
export function bundleFunctionsSync(entries: Iterable<string>, outdir: string): Map<string, FunctionBundle> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const script = `const { bundleFunctions } = await import(${JSON.stringify(import.meta.url)});
const built = await bundleFunctions(${JSON.stringify([...entries])}, ${JSON.stringify(outdir)});
process.stdout.write(JSON.stringify([...built]));`;
  const out = execFileSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Map(JSON.parse(out.toString()) as [string, FunctionBundle][]);
}

/** Copies a source map to another folder, its `sources` still naming the same files. */
function relocateMap(from: string, to: string) {
  const map = JSON.parse(readFileSync(from, 'utf8')) as { sources: string[] };
  map.sources = map.sources.map((source) => relative(dirname(to), resolve(dirname(from), source)));
  writeFileSync(to, JSON.stringify(map));
}

/** The chunks an output imports, directly or not: statically only, or with `import()` too. */
function chunksOf(metafile: Metafile, output: string, dynamic: boolean): Set<string> {
  const found = new Set<string>();
  const visit = (from: string) => {
    for (const { path, kind, external } of metafile.outputs[from]?.imports ?? []) {
      if (external || found.has(path) || (!dynamic && kind === 'dynamic-import')) continue;
      found.add(path);
      visit(path);
    }
  };
  visit(output);
  return found;
}

/**
 * Every module (absolute path) that code loaded with `import()` uses: the targets of every
 * `import()` and what they import, statically, from a quick unminified pass over the graph.
 */
async function lazyModules(entryPoints: Record<string, string>): Promise<Set<string>> {
  const { metafile } = await build({
    ...ESBUILD_OPTIONS,
    entryPoints,
    outdir: 'lazy-modules',
    minify: false,
    sourcemap: false,
    write: false,
    metafile: true,
  });
  const lazy = new Set<string>();
  const visit = (input: string) => {
    if (lazy.has(input)) return;
    lazy.add(input);
    for (const { path, kind } of metafile.inputs[input]?.imports ?? [])
      if (kind !== 'dynamic-import' && metafile.inputs[path]) visit(path);
  };
  for (const { imports } of Object.values(metafile.inputs))
    for (const { path, kind } of imports) if (kind === 'dynamic-import' && metafile.inputs[path]) visit(path);
  return new Set([...lazy].map((input) => join(repoRoot, input)));
}

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.json': 'json' };

/**
 * Gives each function its own copy of the modules only its cold start uses (the HTTP kit, its
 * route and schemas, middy, the logger…), so that they land in its `index.mjs`. Shared between
 * functions, esbuild would split them into a chunk per set of functions using them: a dozen
 * small files per cold start, each costing about a millisecond to load (more with source
 * maps). Modules that lazily loaded code also uses (`lazy`) stay single, shared chunks, so
 * that a module never runs twice in one function (one DomainError class, one logger).
 */
function initCodePerFunction(lazy: ReadonlySet<string>): Plugin {
  return {
    name: 'init-code-per-function',
    setup(esbuild) {
      esbuild.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.resolving) return undefined;
        if (args.kind === 'entry-point') return { path: args.path, pluginData: { owner: args.path } };
        const owner = (args.pluginData as { owner?: string } | undefined)?.owner;
        if (!owner || args.kind === 'dynamic-import') return undefined;
        const resolved = await esbuild.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { resolving: true },
        });
        if (resolved.errors.length) return { errors: resolved.errors };
        const { path, external, namespace, sideEffects } = resolved;
        if (external || namespace !== 'file' || lazy.has(path)) return { path, external, namespace, sideEffects };
        return { path, sideEffects, suffix: `?${bundleName(owner)}`, pluginData: { owner } };
      });
      esbuild.onLoad({ filter: /.*/ }, async (args) => {
        const owner = (args.pluginData as { owner?: string } | undefined)?.owner;
        if (!owner) return undefined;
        return {
          contents: await readFile(args.path),
          loader: LOADERS[extname(args.path)] ?? 'js',
          resolveDir: dirname(args.path),
          pluginData: { owner },
        };
      });
    },
  };
}
