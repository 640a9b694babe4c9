import { describe, expect, it } from 'vitest';
import { ADAPTER_KINDS } from '../types.ts';
import { adapter as local } from './local.ts';
import { adapterFor } from './registry.ts';

describe('the adapter registry', () => {
  it('has an adapter for every kind, each able to chat and stream', async () => {
    for (const kind of ADAPTER_KINDS) {
      const adapter = await adapterFor(kind);
      expect(adapter.kind).toBe(kind);
      expect(typeof adapter.chat).toBe('function');
      expect(typeof adapter.chatStream).toBe('function');
    }
  });

  it('loads each adapter once and hands out the same one', async () => {
    const [first, second] = await Promise.all([adapterFor('local'), adapterFor('local')]);
    expect(first).toBe(local);
    expect(second).toBe(first);
  });
});
