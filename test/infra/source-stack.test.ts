import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunctions } from '../../infra/constructs/esbuild.ts';

/**
 * Functions run without `--enable-source-maps` (it costs every cold start ~15 ms), yet an error
 * they log names the source file and line, read from the bundle's source maps by the logger.
 */
const outdir = mkdtempSync(join(tmpdir(), 'platform-source-stack-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('an error logged by a bundled function', () => {
  it('has its stack, and its cause’s, told in the sources', async () => {
    const entry = join(import.meta.dirname, 'fixtures/source-stack/fails.ts');
    const [bundle] = [...(await bundleFunctions([entry], outdir)).values()];
    const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(join(bundle!.dir, 'index.mjs')).href)}); await handler();`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, NODE_OPTIONS: '', POWERTOOLS_LOG_LEVEL: 'INFO', AWS_REGION: 'us-east-1' },
    });
    expect(run.status, run.stderr.toString()).toBe(0);
    const line = JSON.parse(`${run.stdout}${run.stderr}`.trim().split('\n').at(-1)!) as {
      message: string;
      error: { message: string; location: string; stack: string; cause: { stack: string } };
    };
    expect(line.message).toBe('Request failed');
    expect(line.error.message).toBe('The card was declined');
    // Positions in the source, the function by its source name; the bundle's own are gone.
    const source = 'test/infra/fixtures/source-stack/fails.ts';
    expect(line.error.stack).toMatch(new RegExp(`at chargeCard \\([^)]*${source}:5:9\\)`));
    expect(line.error.stack).toContain(`${source}:10:5)`);
    expect(line.error.location).toMatch(new RegExp(`${source}:5$`));
    expect(line.error.cause.stack).toContain(`${source}:5:53)`);
    expect(line.error.stack).not.toContain('index.mjs');
  });
});
