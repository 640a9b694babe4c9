import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Absolute paths the stacks need, independent of the directory the CDK CLI runs from. */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const functionsDir = join(repoRoot, 'functions');
export const lockFile = join(repoRoot, 'package-lock.json');
export const tsconfigFile = join(repoRoot, 'tsconfig.json');
export const stateMachinesDir = join(repoRoot, 'infra', 'state-machines');

/** `identity/get-me` → `<functionsDir>/identity/get-me.ts`. */
export const handlerEntry = (dir: string, handler: string) => join(dir, `${handler}.ts`);
