import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, LogLevel, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IConstruct } from 'constructs';
import { tsconfigFile } from '../paths.ts';
import { ESM_REQUIRE_SHIM, MAIN_FIELDS, TARGET, bundleFunctionsSync, type FunctionBundle } from './esbuild.ts';

/**
 * NodejsFunction's terms for a function built without a shared bundle: only used when the
 * stack is not being bundled (NodejsFunction then builds nothing), so they never produce code;
 * `esbuild.ts` is how functions are built.
 */
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
 * Bundles the handlers of a stack as `esbuild.ts` says (code splitting: an `index.mjs` and the
 * `chunks/` it loads on demand, which NodejsFunction's single-file bundling cannot produce).
 * When the stack is not being bundled (the infra tests, or `cdk synth` of another stack),
 * nothing is built and `code()` answers undefined: NodejsFunction then skips bundling as usual.
 */
export class FunctionBundles {
  private constructor(
    /** Where the bundles were built (removed when the process exits); undefined when not bundling. */
    readonly outdir: string | undefined,
    private readonly entries: ReadonlySet<string>,
    private readonly built: ReadonlyMap<string, FunctionBundle>,
  ) {}

  static build(scope: IConstruct, entries: Iterable<string>): FunctionBundles {
    const unique = new Set(entries);
    if (!Stack.of(scope).bundlingRequired || unique.size === 0) return new FunctionBundles(undefined, unique, new Map());

    const outdir = mkdtempSync(join(tmpdir(), 'platform-bundles-'));
    // The asset stage copies each bundle into the cloud assembly; the build folder goes with the process.
    process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
    return new FunctionBundles(outdir, unique, bundleFunctionsSync(unique, outdir));
  }

  /** The built code of an entry (its handler is `index.handler`), or undefined when not bundling. */
  code(entry: string): Code | undefined {
    if (!this.entries.has(entry)) throw new Error(`${entry} was not among the entries bundled for this stack`);
    const built = this.built.get(entry);
    return built ? Code.fromAsset(built.dir) : undefined;
  }
}
