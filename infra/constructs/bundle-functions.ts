/**
 * `bundleFunctionsSync`'s child process: reads `{ entries, outdir }` as JSON on stdin, bundles
 * them, and writes the bundles (`[entry, FunctionBundle][]`) as JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import { bundleFunctions } from './esbuild.ts';

const { entries, outdir } = JSON.parse(readFileSync(0, 'utf8')) as { entries: string[]; outdir: string };
process.stdout.write(JSON.stringify([...(await bundleFunctions(entries, outdir))]));
