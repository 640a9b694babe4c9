import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, LogLevel, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { buildSync, type BuildOptions } from 'esbuild';
import type { IConstruct } from 'constructs';
import { repoRoot, tsconfigFile } from '../paths.ts';

/**
 * esbuild's ESM output has no `require`; bundled CommonJS dependencies that require Node
 * built-ins need one, so every bundle starts with a createRequire shim.
 */
export const ESM_REQUIRE_SHIM =
  "import { createRequire as __platformCreateRequire } from 'node:module'; const require = __platformCreateRequire(import.meta.url);";

const TARGET = 'node22';
const MAIN_FIELDS = ['module', 'main'];

/**
 * How every function is bundled: ESM for Node.js 22, minified, with a source map (run with
 * --enable-source-maps), and everything inside, the AWS SDK included: the SDK version we
 * test (pinned by the lock file) is the version we run.
 */
const ESBUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: TARGET,
  mainFields: MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_SHIM },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  outExtension: { '.js': '.mjs' },
  tsconfig: tsconfigFile,
  logLevel: 'error',
};

/** The same choices in NodejsFunction's terms, for a function built without a shared bundle. */
export const NODEJS_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: TARGET,
  mainFields: MAIN_FIELDS,
  banner: ESM_REQUIRE_SHIM,
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  externalModules: [],
  tsconfig: tsconfigFile,
  logLevel: LogLevel.ERROR,
  forceDockerBundling: false,
};

/**
 * Bundles the handlers of a stack in one esbuild run. NodejsFunction bundles each function
 * in its own esbuild process (about a second each, so minutes for the whole manifest);
 * one run over every entry takes seconds. When the stack is not being bundled (the infra
 * tests, or `cdk synth` of another stack), nothing is built and `code()` answers
 * undefined: NodejsFunction then skips bundling as usual.
 */
export class FunctionBundles {
  private constructor(
    /** Where the bundles were built (removed when the process exits); undefined when not bundling. */
    readonly outdir: string | undefined,
    private readonly entries: ReadonlySet<string>,
  ) {}

  static build(scope: IConstruct, entries: Iterable<string>): FunctionBundles {
    const unique = new Set(entries);
    if (!Stack.of(scope).bundlingRequired || unique.size === 0) return new FunctionBundles(undefined, unique);

    const outdir = mkdtempSync(join(tmpdir(), 'platform-bundles-'));
    // The asset stage copies each bundle into the cloud assembly; the build folder goes with the process.
    process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
    buildSync({
      ...ESBUILD_OPTIONS,
      entryPoints: Object.fromEntries([...unique].map((entry) => [`${bundleName(entry)}/index`, entry])),
      outdir,
    });
    return new FunctionBundles(outdir, unique);
  }

  /** The built code of an entry (its handler is `index.handler`), or undefined when not bundling. */
  code(entry: string): Code | undefined {
    if (!this.entries.has(entry)) throw new Error(`${entry} was not among the entries bundled for this stack`);
    return this.outdir ? Code.fromAsset(join(this.outdir, bundleName(entry))) : undefined;
  }
}

/** `<repo>/functions/identity/get-me.ts` → `functions/identity/get-me`. */
const bundleName = (entry: string) => relative(repoRoot, entry).replace(/\.[cm]?[jt]sx?$/, '');
