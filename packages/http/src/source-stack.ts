import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces of a bundled function, told in its sources when an error is logged: each
 * position in a bundle file (`file:///var/task/index.mjs:1:2345`) becomes the source's
 * (`packages/domain/src/identity/users.ts:84:11`), read from the `.map` beside the file.
 *
 * Node's `--enable-source-maps` does this for every stack, but reads every file's map as the
 * file loads: about 15 ms of each cold start (README, "Cold starts"). This reads a file's map
 * the first time a logged error passes through it, as the line is written. Outside bundles (the
 * tests, the local server) stacks already name the sources and pass unchanged.
 */
const maps = new Map<string, SourceMap | undefined>();

function mapOf(file: string): SourceMap | undefined {
  if (!maps.has(file)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = undefined; // no map beside it: the position stays as it is
    }
    maps.set(file, map);
  }
  return maps.get(file);
}

type Entry = { originalSource?: string; originalLine: number; originalColumn: number; name?: string };

/** A position in a bundle file, as a stack frame writes it. */
const BUNDLE_POSITION = /(file:\/\/[^\s()]+?\.mjs):(\d+):(\d+)/;

function entryAt(frame: string): Entry | undefined {
  const at = frame && BUNDLE_POSITION.exec(frame);
  if (!at) return undefined;
  const entry = mapOf(fileURLToPath(at[1]!))?.findEntry(Number(at[2]) - 1, Number(at[3]) - 1) as Entry | undefined;
  return entry?.originalSource ? entry : undefined;
}

export function sourceStack(stack: string): string {
  const frames = stack.split('\n');
  const entries = frames.map(entryAt);
  return frames
    .map((frame, i) => {
      const entry = entries[i];
      if (!entry) return frame;
      const source = entry.originalSource!.replace(/^(?:\.\.\/)+/, '');
      const located = frame.replace(BUNDLE_POSITION, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
      // A minified function's name: the caller's frame calls it by its source name, there.
      const name = entries[i + 1]?.name;
      return name ? located.replace(/^(\s*at (?:async )?)[\w$.]+ \(/, `$1${name} (`) : located;
    })
    .join('\n');
}

/** Rewrites the stacks of an error and of its causes in place; answers the error. */
export function withSourceStack<T>(error: T): T {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 8; depth++, current = current.cause)
    if (typeof current.stack === 'string') current.stack = sourceStack(current.stack);
  return error;
}
