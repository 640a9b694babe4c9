/**
 * The fake provider for one test file: started before its tests, its scripts and records cleared
 * before each, closed after. Returns a getter, since the server starts after the file is loaded.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startFakeProvider } from './fake-provider.ts';
import type { FakeProvider } from './fake-provider.ts';

export function useFakeProvider(): () => FakeProvider {
  let fake: FakeProvider | undefined;
  beforeAll(async () => {
    fake = await startFakeProvider();
  });
  beforeEach(() => fake!.reset());
  afterAll(() => fake?.close());
  return () => fake!;
}
