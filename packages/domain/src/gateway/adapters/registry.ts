/**
 * The adapters by kind, each loaded on first use (a dynamic import), so a cold start pays only for
 * the provider it calls: the AWS SDK's Bedrock client is evaluated only by a container that calls
 * Bedrock. Adding a provider is one file in this folder exporting `adapter`, and one line here.
 */
import type { Adapter, AdapterKind } from '../types.ts';

const loaders: Record<AdapterKind, () => Promise<{ adapter: Adapter }>> = {
  bedrock: () => import('./bedrock.ts'),
  openai: () => import('./openai.ts'),
  anthropic: () => import('./anthropic.ts'),
  google: () => import('./google.ts'),
  local: () => import('./local.ts'),
};

const loaded = new Map<AdapterKind, Promise<Adapter>>();

export function adapterFor(kind: AdapterKind): Promise<Adapter> {
  let adapter = loaded.get(kind);
  if (!adapter) {
    const load = loaders[kind] as (typeof loaders)[AdapterKind] | undefined;
    if (!load) return Promise.reject(new Error(`No adapter for provider kind ${kind}`));
    adapter = load().then((module) => module.adapter);
    adapter.catch(() => loaded.delete(kind));
    loaded.set(kind, adapter);
  }
  return adapter;
}
