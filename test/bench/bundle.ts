import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** The esbuild options CDK's NodejsFunction uses for our functions (ESM, minified, SDK bundled). */
export const bundleOptions = {
  bundle: true,
  platform: 'node' as const,
  format: 'esm' as const,
  target: 'node20',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  logLevel: 'silent' as const,
};

export async function bundle(entry: string, outDir: string, name: string) {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}.mjs`);
  await build({ ...bundleOptions, entryPoints: [entry], outfile });
  return { outfile, bytes: statSync(outfile).size };
}

/** The baseline: a handler that only builds a DynamoDB client. */
export function writeBareHandler(dir: string) {
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'bare.ts');
  writeFileSync(
    entry,
    `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({});
export const handler = async () => ({ statusCode: 200, body: String(Boolean(client)) });
`,
  );
  return entry;
}
