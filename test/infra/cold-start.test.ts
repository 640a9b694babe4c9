import { relative } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@platform/api/manifest';
import { ESBUILD_OPTIONS } from '../../infra/constructs/esbuild.ts';
import { repoRoot } from '../../infra/paths.ts';
import { deployedFunctions } from '../bench/bundle.ts';

/**
 * A cold start loads the HTTP kit and the route, not the domain: a handler loads its domain
 * (and with it ElectroDB, the entities and the AWS SDK) with `import()` on its first
 * call (README, "Cold starts"). This reads every deployed function's static import graph,
 * what its bundle's index.mjs holds, from one quick unminified esbuild pass.
 */
const HEAVY = [
  { pattern: /^node_modules\/electrodb\//, what: 'ElectroDB' },
  { pattern: /^node_modules\/@aws-sdk\//, what: 'the AWS SDK' },
  { pattern: /^node_modules\/@smithy\//, what: 'the AWS SDK' },
  { pattern: /^node_modules\/aws-xray-sdk-core\//, what: 'the X-Ray SDK' },
  { pattern: /^packages\/domain\/src\/.*entities\.ts$/, what: 'an entity module' },
];

let metafile: Metafile;
const entries = deployedFunctions(routes);

beforeAll(async () => {
  ({ metafile } = await build({
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
function loadedAtColdStart(entry: string): Map<string, string[]> {
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

describe('cold starts', () => {
  it.each(entries.map((entry) => [relative(repoRoot, entry)]))('%s loads no domain, ElectroDB or AWS SDK', (entry) => {
    const heavy = [...loadedAtColdStart(entry)].flatMap(([input, chain]) =>
      HEAVY.filter(({ pattern }) => pattern.test(input)).map(({ what }) => `${what}: ${chain.join(' → ')}`),
    );
    expect(heavy.slice(0, 1), 'load it with `lazy(() => import(…))` where it is used (README, "Cold starts")').toEqual([]);
  });
});
