import { expect } from 'vitest';
import type { ApiResponse } from './api.ts';

/** One write of a series, and the GET that shows what it stored. */
export type WriteAndRead = [step: string, write: () => Promise<ApiResponse>, read: () => Promise<ApiResponse>];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each write answers what a GET right after shows, field by field, its time of last change (and
 * `version`, where it counts writes) included, and moves them on. Each waits a few milliseconds
 * first, so that its time differs from the one before: an answer naming the previous time, or
 * another one, cannot pass by falling in the same millisecond.
 */
export async function expectAnsweredAsStored(steps: WriteAndRead[]) {
  let last: { updatedAt?: string; version?: number } | undefined;
  for (const [step, write, read] of steps) {
    await sleep(5);
    const res = await write();
    expect(res.status, `${step}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    const stored = await read();
    expect(stored.status, `${step}: ${JSON.stringify(stored.body)}`).toBe(200);
    expect(res.body, step).toEqual(stored.body);
    if (last?.updatedAt)
      expect(stored.body.updatedAt > last.updatedAt, `${step}: ${stored.body.updatedAt} after ${last.updatedAt}`).toBe(true);
    // A model's `version` is its own label (a string), not a count of writes.
    if (typeof last?.version === 'number') expect(stored.body.version, step).toBeGreaterThan(last.version);
    last = stored.body;
  }
}
