import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { ESBUILD_OPTIONS, bundleFunctions } from '../../infra/constructs/esbuild.ts';
import { newId } from '@platform/domain/shared/ids';
import { run as runFromSource } from './fixtures/domain/electrodb-calls.ts';

/**
 * In a bundle, ElectroDB gets the AWS SDK from `electrodb-sdk.ts` instead of `require` (see
 * `infra/constructs/esbuild.ts`): the same requests, sent from a function bundled as the stacks
 * deploy it, against DynamoDB Local, answer as they do from the source.
 */
const outdir = mkdtempSync(join(tmpdir(), 'platform-bundled-electrodb-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('ElectroDB in a bundled function', () => {
  it('sends every kind of request, and reads a rejected condition check and a refused write, as it does from the source', async () => {
    const entry = join(import.meta.dirname, 'fixtures/domain/electrodb-calls.ts');
    const [bundle] = [...(await bundleFunctions([entry], outdir)).values()];
    const bundled = (await import(pathToFileURL(join(bundle!.dir, 'index.mjs')).href)) as { run: typeof runFromSource };

    const fromBundle = await bundled.run(newId('usr'));
    expect(fromBundle).toEqual({
      got: { itemId: 'a', count: 1 },
      rejected: { rejected: true, data: { itemId: 'a', count: 1 } },
      refused: 'refused by its condition',
      updated: { itemId: 'b', count: 42 },
      batch: [1, 42],
      listed: ['b'],
    });
    expect(fromBundle).toEqual(await runFromSource(newId('usr')));
  });

  it('stops the build when ElectroDB requires an SDK module that is not handed over', async () => {
    const electrodb = join(outdir, 'node_modules/electrodb');
    mkdirSync(electrodb, { recursive: true });
    writeFileSync(join(electrodb, 'index.js'), 'module.exports = require("@aws-sdk/client-s3");');
    writeFileSync(join(outdir, 'entry.js'), 'import s3 from "electrodb"; export const handler = () => s3;');
    await expect(
      build({ ...ESBUILD_OPTIONS, entryPoints: [join(outdir, 'entry.js')], outdir: join(outdir, 'out'), write: false }),
    ).rejects.toThrow(/ElectroDB requires @aws-sdk\/client-s3/);
  });
});
