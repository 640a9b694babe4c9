import { ConflictError, NotFoundError } from '../shared/errors.ts';
import { put, transactWrite, update } from '../shared/transactions.ts';
import { DEFAULT_PROVIDERS, type Provider } from './default-providers.ts';
import { hubDb } from './entities.ts';
import { auditWrites, PLATFORM, type Owner } from './owners.ts';
import { forgetSnapshot, mergeProviders } from './snapshot.ts';

/**
 * The provider catalogue (DOMAIN.md §3, Provider). Defaults live in code; platform admins'
 * edits and additions are one stored item (slug → provider) that wins over them, each provider
 * in it written on its own (`writeProvider`). Built-in providers cannot be removed, only
 * deactivated; providers an admin added can be removed.
 */
export type ProviderInput = Omit<Provider, 'slug' | 'updatedAt' | 'updatedBy'>;

interface Catalogue {
  providers: Map<string, Provider>;
  saved: Record<string, Provider>;
  version?: number;
}

async function readCatalogue(): Promise<Catalogue> {
  const { data } = await hubDb.providerCatalogue.get({ owner: PLATFORM }).go({ consistent: true });
  const saved = (data?.providers ?? {}) as Record<string, Provider>;
  return { providers: mergeProviders(saved), saved, version: data?.version };
}

export const isBuiltInProvider = (slug: string) => Object.hasOwn(DEFAULT_PROVIDERS, slug);

/** A provider of the stored item, by slug: one of its own, never what its prototype holds (`constructor`). */
const savedProvider = (catalogue: Catalogue, slug: string) =>
  Object.hasOwn(catalogue.saved, slug) ? catalogue.saved[slug] : undefined;

const view = (p: Provider) => ({ ...p, isBuiltIn: isBuiltInProvider(p.slug) });
export type ProviderView = ReturnType<typeof view>;

/** Every provider (inactive ones only when asked), built-in ones first. One read. */
export async function listProviders(options: { includeInactive?: boolean } = {}): Promise<ProviderView[]> {
  const { providers } = await readCatalogue();
  const order = Object.keys(DEFAULT_PROVIDERS);
  const rank = (slug: string) => (order.includes(slug) ? order.indexOf(slug) : order.length);
  return [...providers.values()]
    .filter((p) => options.includeInactive || p.status !== 'Inactive')
    .sort((a, b) => rank(a.slug) - rank(b.slug) || a.slug.localeCompare(b.slug))
    .map(view);
}

/** The catalogue as one map, for services that check a provider (a key's config, a model's provider). */
export async function providerCatalogue(): Promise<Map<string, Provider>> {
  return (await readCatalogue()).providers;
}

export function requireProvider(providers: Map<string, Provider>, slug: string, path = 'providerSlug'): Provider {
  const provider = providers.get(slug);
  if (!provider) throw new NotFoundError(`No provider ${slug}`, [{ path, message: 'Unknown provider' }]);
  return provider;
}

/**
 * The stored catalogue's size, at most: it is one item, and DynamoDB refuses one past 400 KB.
 * A provider takes a few KB (its config schema 4 KiB at most), so this is some fifty of them.
 */
export const MAX_CATALOGUE_BYTES = 300_000;
const sizeOf = (saved: Record<string, Provider>) => Buffer.byteLength(JSON.stringify(saved));

/** Refuses a change that grows a catalogue past MAX_CATALOGUE_BYTES (one that shrinks it, or keeps its size, may pass). */
export function assertCatalogueFits(saved: Record<string, Provider>, before: Record<string, Provider>) {
  const size = sizeOf(saved);
  if (size > MAX_CATALOGUE_BYTES && size > sizeOf(before))
    throw new ConflictError(
      `The provider catalogue is full (${MAX_CATALOGUE_BYTES / 1000} KB of providers added or edited by admins): remove one an admin added, or shorten one`,
    );
}

/**
 * A provider's new `updatedAt`: now, or just after the one it replaces when that is as late (two
 * changes within a millisecond), so that each change of a provider leaves a stamp of its own,
 * which the next change's lock compares.
 */
function stampAfter(seen: Provider | undefined): string {
  const now = Date.now();
  const last = seen?.updatedAt ? Date.parse(seen.updatedAt) : NaN;
  return new Date(Number.isNaN(last) || now > last ? now : last + 1).toISOString();
}

/**
 * Writes one provider of the stored catalogue item (`next`; undefined removes it), with the audit
 * row, in one transaction. Each provider is locked on its own: the write holds only if the
 * provider is as it was read (its `updatedAt`, or absent), so admins editing different providers
 * at the same moment both succeed, and only two changes of one provider race (a 409). The
 * catalogue's `version` still counts every change, for the routing snapshot.
 */
async function writeProvider(
  owner: Owner,
  catalogue: Catalogue,
  slug: string,
  next: Provider | undefined,
  audit: Parameters<typeof auditWrites>,
) {
  const saved = { ...catalogue.saved };
  if (next) saved[slug] = next;
  else delete saved[slug];
  assertCatalogueFits(saved, catalogue.saved);
  const now = new Date().toISOString();
  const seen = savedProvider(catalogue, slug);
  const write =
    catalogue.version === undefined
      ? put(hubDb.providerCatalogue.create({ owner: PLATFORM, providers: saved, version: 1, updatedAt: now }))
      : update(
          hubDb.providerCatalogue
            .update({ owner: PLATFORM })
            .data(({ providers, version, updatedAt }, op) => {
              if (next) op.set(providers[slug], next);
              else op.remove(providers[slug]);
              op.add(version, 1);
              op.set(updatedAt, now);
            })
            .where(({ providers }, { eq, notExists }) =>
              !seen
                ? notExists(providers[slug])
                : seen.updatedAt
                  ? eq(providers[slug].updatedAt, seen.updatedAt)
                  : notExists(providers[slug].updatedAt),
            ),
        );
  const outcome = await transactWrite([write, ...auditWrites(...audit)]);
  if (outcome.canceled) throw new ConflictError(`The provider ${slug} changed meanwhile; retry`);
  forgetSnapshot(PLATFORM);
}

/** Creates or replaces a provider (platform admins). */
export async function saveProvider(owner: Owner, slug: string, input: ProviderInput): Promise<ProviderView> {
  const catalogue = await readCatalogue();
  const before = catalogue.providers.get(slug);
  const provider: Provider = { ...input, slug, updatedAt: stampAfter(savedProvider(catalogue, slug)), updatedBy: owner.actorId };
  await writeProvider(owner, catalogue, slug, provider, [
    owner,
    'provider.saved',
    { type: 'provider', id: slug },
    { before: before ?? null, after: provider },
  ]);
  return view(provider);
}

/** Changes some fields of a provider (platform admins). */
export async function patchProvider(owner: Owner, slug: string, changes: Partial<ProviderInput>): Promise<ProviderView> {
  const catalogue = await readCatalogue();
  const before = requireProvider(catalogue.providers, slug, 'slug');
  const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
  const provider: Provider = {
    ...before,
    ...defined,
    slug,
    updatedAt: stampAfter(savedProvider(catalogue, slug)),
    updatedBy: owner.actorId,
  };
  await writeProvider(owner, catalogue, slug, provider, [
    owner,
    'provider.saved',
    { type: 'provider', id: slug },
    { before, after: provider },
  ]);
  return view(provider);
}

/**
 * Retires a provider: one an admin added is removed; a built-in one (its definition lives in
 * code) is deactivated. Either way no call is routed to it any more.
 */
export async function retireProvider(owner: Owner, slug: string): Promise<void> {
  const catalogue = await readCatalogue();
  const before = requireProvider(catalogue.providers, slug, 'slug');
  const next = isBuiltInProvider(slug)
    ? { ...before, status: 'Inactive' as const, updatedAt: stampAfter(savedProvider(catalogue, slug)), updatedBy: owner.actorId }
    : undefined;
  await writeProvider(owner, catalogue, slug, next, [
    owner,
    'provider.retired',
    { type: 'provider', id: slug },
    { before, removed: !isBuiltInProvider(slug) },
  ]);
}
