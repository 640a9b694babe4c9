import { DEFAULT_MODELS, type Model } from './default-models.ts';
import { DEFAULT_PROVIDERS, type Provider } from './default-providers.ts';
import { put, type WriteItem } from '../shared/transactions.ts';
import { hubDb, hubService, type CredentialItem, type ModelItem, type RoutingRuleItem } from './entities.ts';
import { PLATFORM } from './owners.ts';

/**
 * An owner's whole routing picture (providers and catalogue for the platform; models, rules,
 * keys and default keys for everyone), read by ONE collection query and kept in memory for a
 * short time. This is what makes the gateway's hot path cheap: in steady state a routing
 * decision reads nothing from DynamoDB.
 *
 * Staleness: a change made by another Lambda instance is seen after at most the TTL
 * (`PLATFORM_TTL_MS` for the catalogue and global rules, `OWNER_TTL_MS` for an organization's
 * or user's rules, models and keys). A change made in this process is seen at once: every
 * write of the hub calls `forgetSnapshot`.
 */
export const PLATFORM_TTL_MS = 60_000;
export const OWNER_TTL_MS = 30_000;

export interface HubSnapshot {
  owner: string;
  /** Platform only: the provider catalogue, defaults merged with admin edits. */
  providers: Map<string, Provider>;
  providersVersion?: number;
  models: Model[];
  rules: RoutingRuleItem[];
  credentials: CredentialItem[];
  /** provider slug → default credential id */
  defaults: Record<string, string>;
  defaultsVersion?: number;
  /** When the owner (an organization, a user) was deleted: its keys are then none (`ownerEnd`). */
  deletedAt?: string;
  loadedAt: number;
}

export function modelFromItem(item: ModelItem): Model {
  const { owner, ruleWrites: _bookkeeping, ...rest } = item;
  const model = { ...rest, tags: rest.tags ?? [], aliases: rest.aliases ?? [] } as Model;
  if (owner.startsWith('org#')) model.orgId = owner.slice(4);
  return model;
}

/** The provider catalogue: the defaults, then each admin edit over them. */
export function mergeProviders(saved: unknown): Map<string, Provider> {
  const merged = new Map(Object.entries(DEFAULT_PROVIDERS));
  for (const [slug, provider] of Object.entries((saved ?? {}) as Record<string, Provider>)) merged.set(slug, provider);
  return merged;
}

/** The model catalogue: the defaults, then each admin edit over them, in catalogue order. */
export function mergeModels(rows: Model[]): Model[] {
  const merged = new Map(Object.entries(DEFAULT_MODELS));
  for (const row of rows) merged.set(row.modelId, row);
  return [...merged.values()];
}

/** Reads one owner's hub partition (one Query, every page). */
export async function loadSnapshot(owner: string): Promise<HubSnapshot> {
  const { data } = await hubService().collections.hub({ owner }).go({ pages: 'all' });
  const catalogue = data.providerCatalogue[0];
  const defaults = data.credentialDefaults[0];
  const models = data.model.map(modelFromItem);
  // A deleted owner's keys stay stored, but none is usable: routing finds none, and a call in
  // flight through one finds it gone before its next attempt (`credentialWithdrawn`).
  const deletedAt = data.ownerEnd[0]?.deletedAt;
  return {
    owner,
    providers: owner === PLATFORM ? mergeProviders(catalogue?.providers) : new Map(),
    providersVersion: catalogue?.version,
    models: owner === PLATFORM ? mergeModels(models) : models,
    rules: data.routingRule,
    credentials: deletedAt ? [] : data.credential,
    defaults: deletedAt ? {} : ((defaults?.defaults ?? {}) as Record<string, string>),
    defaultsVersion: defaults?.version,
    ...(deletedAt ? { deletedAt } : {}),
    loadedAt: Date.now(),
  };
}

/**
 * The write that marks an owner deleted in its hub partition, for the deletion's own transaction:
 * its snapshot then lists no keys, here once the deletion calls `forgetSnapshot(owner)` and in
 * other instances within `OWNER_TTL_MS`, as a key deleted is seen. A plain put: a retried
 * deletion writes it again harmlessly.
 */
export const ownerEnd = (owner: string, deletedAt: string): WriteItem => put(hubDb.ownerEnd.put({ owner, deletedAt }));

const cache = new Map<string, Promise<HubSnapshot>>();
const MAX_CACHED = 5_000;

/**
 * The owner's snapshot from memory when younger than its TTL, else read again. Concurrent
 * callers of a cold owner share one read.
 */
export async function cachedSnapshot(owner: string): Promise<HubSnapshot> {
  const ttl = owner === PLATFORM ? PLATFORM_TTL_MS : OWNER_TTL_MS;
  const hit = cache.get(owner);
  if (hit) {
    const snapshot = await hit.catch(() => undefined);
    if (snapshot && Date.now() - snapshot.loadedAt < ttl) return snapshot;
    if (cache.get(owner) !== hit) return cachedSnapshot(owner);
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  const loading = loadSnapshot(owner);
  cache.set(owner, loading);
  loading.catch(() => cache.get(owner) === loading && cache.delete(owner));
  return loading;
}

/** Forgets an owner's snapshot (after a write in this process), or every snapshot. */
export function forgetSnapshot(owner?: string) {
  if (owner === undefined) cache.clear();
  else cache.delete(owner);
}
