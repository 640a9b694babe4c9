import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import type { AssetCode } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionBundles } from '../../infra/constructs/bundles.ts';
import { ESM_REQUIRE_SHIM } from '../../infra/constructs/esbuild.ts';
import { handlerEntry } from '../../infra/paths.ts';
import { fixtureFunctionsDir } from './fixtures/routes.ts';

const getMe = handlerEntry(fixtureFunctionsDir, 'identity/get-me');
const authorizer = handlerEntry(fixtureFunctionsDir, 'identity/authorizer');
const getOrg = handlerEntry(fixtureFunctionsDir, 'identity/get-org');

const outdirs: string[] = [];
const stackWith = (context: Record<string, unknown> = {}) => {
  const outdir = mkdtempSync(join(tmpdir(), 'platform-cdk-test-'));
  outdirs.push(outdir);
  return new Stack(new App({ outdir, context }), 'Bundled');
};
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('shared function bundles', () => {
  let bundles: FunctionBundles;
  beforeAll(() => {
    bundles = FunctionBundles.build(stackWith(), [getMe, authorizer, getOrg, getMe]);
    outdirs.push(bundles.outdir!);
  });

  it('build every entry into its own ESM bundle with a source map and the require shim', () => {
    const dir = (bundles.code(getMe) as AssetCode).path;
    const source = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(source.startsWith(ESM_REQUIRE_SHIM)).toBe(true);
    expect(source).toContain('sourceMappingURL=index.mjs.map');
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    expect((bundles.code(authorizer) as AssetCode).path).not.toBe(dir);
  });

  it('produce a module Lambda can load as index.handler', async () => {
    const dir = (bundles.code(authorizer) as AssetCode).path;
    const module = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler: () => Promise<unknown> };
    await expect(module.handler()).resolves.toEqual({ isAuthorized: false });
  });

  it('put what a handler loads with import() in a chunk of its own folder, read on first call', async () => {
    const dir = (bundles.code(getOrg) as AssetCode).path;
    expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).not.toContain('loaded-on-first-call');
    const chunks = readdirSync(join(dir, 'chunks')).filter((file) => file.endsWith('.mjs'));
    expect(chunks.some((chunk) => readFileSync(join(dir, 'chunks', chunk), 'utf8').includes('loaded-on-first-call'))).toBe(true);
    const module = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler: () => Promise<unknown> };
    await expect(module.handler()).resolves.toEqual({ statusCode: 200, body: 'loaded-on-first-call' });
  });

  it('refuse an entry that was not part of the build', () => {
    expect(() => bundles.code(handlerEntry(fixtureFunctionsDir, 'admin/list-users'))).toThrow(/not among the entries/);
  });

  it('build nothing when the stack is not being bundled (tests, `cdk synth <other stack>`)', () => {
    const skipped = FunctionBundles.build(stackWith({ 'aws:cdk:bundling-stacks': [] }), [getMe]);
    expect(skipped.code(getMe)).toBeUndefined();
  });
});
