import { relative } from 'node:path';
import { build, type Metafile, type OutputFile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import { ESBUILD_OPTIONS } from '../../infra/constructs/esbuild.ts';
import { functionsDir, handlerEntry, repoRoot } from '../../infra/paths.ts';
import { deployedFunctions } from '../bench/bundle.ts';

/**
 * What a cold start must not load (README, "Cold starts"), read from every deployed function's
 * static import graph (what its bundle's index.mjs holds) in one quick unminified esbuild pass:
 *  - no function loads the tracer and the X-Ray SDK unless tracing is on;
 *  - the Lambda authorizer, in front of every request, verifies tokens without the domain:
 *    ElectroDB and the AWS SDK come with the first API key it sees;
 *  - no AWS SDK module is wrapped for a CommonJS `require` (esbuild's `__esm`), which would
 *    turn the SDK into closures run on first use (`electrodbInBundles` in esbuild.ts);
 *  - no function bundles jsonschema, ElectroDB's check of a model (it runs in the tests instead).
 */
const TRACING = [
  { pattern: /^node_modules\/aws-xray-sdk-core\//, what: 'the X-Ray SDK' },
  { pattern: /^node_modules\/@aws-lambda-powertools\/tracer\//, what: 'the Powertools tracer' },
];
const DOMAIN = [
  { pattern: /^node_modules\/electrodb\//, what: 'ElectroDB' },
  { pattern: /^node_modules\/@aws-sdk\//, what: 'the AWS SDK' },
  { pattern: /^packages\/domain\/src\/.*entities\.ts$/, what: 'an entity module' },
];

let metafile: Metafile;
let outputFiles: OutputFile[];
const metafileRoot = ESBUILD_OPTIONS.absWorkingDir ?? process.cwd();
const entries = deployedFunctions(routes);
const authorizer = handlerEntry(functionsDir, 'identity/authorizer');

beforeAll(async () => {
  ({ metafile, outputFiles } = await build({
    ...ESBUILD_OPTIONS,
    entryPoints: entries,
    outdir: 'cold-start-graph',
    minify: false,
    sourcemap: false,
    write: false,
    metafile: true,
  }));
}, 120_000);

/** The modules a cold start evaluates, each with the chain of imports that brings it in. */
function loadedAtColdStart(file: string): Map<string, string[]> {
  const entry = relative(metafileRoot, file); // the metafile names inputs relative to esbuild's working directory
  expect(metafile.inputs[entry], entry).toBeDefined();
  const chains = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  for (let input = queue.shift(); input; input = queue.shift()) {
    for (const { path, kind } of metafile.inputs[input]?.imports ?? []) {
      if (kind === 'dynamic-import' || chains.has(path) || !metafile.inputs[path]) continue;
      chains.set(path, [...chains.get(input)!, path]);
      queue.push(path);
    }
  }
  return chains;
}

const found = (entry: string, heavy: typeof DOMAIN) =>
  [...loadedAtColdStart(entry)].flatMap(([input, chain]) =>
    heavy.filter(({ pattern }) => pattern.test(input)).map(({ what }) => `${what}: ${chain.join(' → ')}`),
  );

describe('cold starts', () => {
  it.each(entries.map((entry) => [relative(repoRoot, entry), entry]))('%s loads no tracer unless tracing is on', (_, entry) => {
    expect(found(entry, TRACING).slice(0, 1), 'the tracer is loaded by observe.ts when TRACING=powertools').toEqual([]);
  });

  it('the authorizer verifies tokens without loading the domain', () => {
    expect(found(authorizer, DOMAIN).slice(0, 1), 'API keys are looked up with lazy(() => import(…)) in principal.ts').toEqual(
      [],
    );
  });

  it('no function wraps an AWS SDK module for a require()', () => {
    const wrapped = outputFiles.flatMap((file) =>
      [...file.text.matchAll(/__esm\(\{\s*"(node_modules\/@aws-sdk\/[^"]+)"/g)].map((m) => m[1]),
    );
    expect(outputFiles.length).toBeGreaterThan(entries.length);
    expect(wrapped.slice(0, 3)).toEqual([]);
  });

  it('no function bundles jsonschema: ElectroDB’s check of our models runs in the tests', () => {
    expect(Object.keys(metafile.inputs).filter((input) => input.includes('node_modules/jsonschema/'))).toEqual([]);
    expect(Object.keys(metafile.inputs)).toContain('electrodb-models:jsonschema');
  });

  it('sees the domain where a handler does load it', () => {
    expect(found(handlerEntry(functionsDir, 'identity/get-me'), DOMAIN).length).toBeGreaterThan(0);
  });
});
