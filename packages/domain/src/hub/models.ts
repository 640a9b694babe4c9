import type { OrgAccess } from '../identity/access.ts';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { badCursor, decodeCursor, encodeCursor } from '../shared/pages.ts';
import { put, remove, transactWrite } from '../shared/transactions.ts';
import { DEFAULT_MODELS, type Model } from './default-models.ts';
import type { Provider } from './default-providers.ts';
import { hubDb, type Capability, type ModelItem } from './entities.ts';
import { auditWrites, orgKey, PLATFORM, type Owner } from './owners.ts';
import { requireProvider } from './providers.ts';
import { forgetSnapshot, loadSnapshot, modelFromItem } from './snapshot.ts';

/**
 * The model catalogue (DOMAIN.md §3, Model: one table, kind external / reference / custom).
 * Catalogue models: defaults in code, a platform admin's edit stored and winning; a built-in
 * model is deactivated rather than deleted. Custom models of an organization: custom-models.ts.
 */
export type ModelInput = Omit<Model, 'modelId' | 'orgId' | 'createdBy' | 'updatedBy' | 'createdAt' | 'updatedAt'>;

export const CUSTOM_MODEL_PREFIX = 'mdl_';
export const isCustomModelId = (modelId: string) => modelId.startsWith(CUSTOM_MODEL_PREFIX);
export const isBuiltInModel = (modelId: string) => Object.hasOwn(DEFAULT_MODELS, modelId);

const view = (m: Model) => ({ ...m, isBuiltIn: !m.orgId && isBuiltInModel(m.modelId) });
export type ModelView = ReturnType<typeof view>;

export interface ModelFilters {
  type?: Model['type'];
  provider?: string;
  capability?: Capability;
  kind?: Model['kind'];
  tag?: string;
  status?: Model['status'];
}

/** Whether calls can reach a model's provider: it is in the catalogue and not deactivated. */
export function providerIsLive(providers: Map<string, Provider>, m: Pick<Model, 'providerSlug'>): boolean {
  const status = providers.get(m.providerSlug)?.status;
  return status !== undefined && status !== 'Inactive';
}

/**
 * Whether a model passes the filters. A model whose provider was removed or deactivated cannot
 * be called, so it counts as retired (Inactive) like a deactivated model: left out unless the
 * status filter asks for Inactive models.
 */
export function matchesFilters(m: Model, f: ModelFilters, providerLive = true): boolean {
  if (f.type && m.type !== f.type) return false;
  if (f.provider && m.providerSlug !== f.provider) return false;
  if (f.capability && !m.capabilities.includes(f.capability)) return false;
  if (f.kind && m.kind !== f.kind) return false;
  if (f.tag && !m.tags.includes(f.tag)) return false;
  const status = providerLive ? m.status : 'Inactive';
  // Without a status filter, retired (Inactive) models are left out.
  return f.status ? status === f.status : status !== 'Inactive';
}

/**
 * The catalogue, filtered; with an `OrgAccess`, that organization's custom models too.
 * One query for the catalogue with its providers (the platform's hub partition), one for the
 * organization's models.
 */
export async function listModels(filters: ModelFilters, access?: OrgAccess): Promise<ModelView[]> {
  const [platform, custom] = await Promise.all([
    loadSnapshot(PLATFORM),
    access
      ? hubDb.model.query
          .byOwner({ owner: orgKey(access.orgId) })
          .go({ pages: 'all' })
          .then(({ data }) => data.map(modelFromItem))
      : Promise.resolve([]),
  ]);
  return [...custom, ...platform.models]
    .filter((m) => matchesFilters(m, filters, providerIsLive(platform.providers, m)))
    .map(view);
}

/** Where a page of models ends: the list it belongs to (its filters and organization) and its last model. */
interface ModelsCursor {
  list: string;
  after: [number, string];
}

/** The organization's custom models first (by id, so by age), then the catalogue's, by id. */
const sortKey = (m: Model): [number, string] => [m.orgId ? 0 : 1, m.modelId];
const isAfter = (key: [number, string], than: [number, string]) => (key[0] !== than[0] ? key[0] > than[0] : key[1] > than[1]);

function readCursor(cursor: string, list: string): ModelsCursor['after'] {
  const parsed = decodeCursor(cursor) as Partial<ModelsCursor> | undefined;
  const [group, modelId] = Array.isArray(parsed?.after) ? parsed.after : [];
  if (parsed?.list === list && (group === 0 || group === 1) && typeof modelId === 'string') return [group, modelId];
  throw badCursor();
}

/**
 * A page of `listModels`. The list is built in memory from the catalogue (and the organization's
 * models), so the cursor is the last model's place in the sorted list: a model added or removed
 * meanwhile moves no other model. It names its list (filters and organization): a cursor of
 * another list is a 400, as for every list.
 */
export async function listModelsPage(
  filters: ModelFilters,
  access: OrgAccess | undefined,
  page: { cursor?: string; limit?: number },
): Promise<{ items: ModelView[]; nextCursor: string | null }> {
  const list = JSON.stringify([
    access?.orgId ?? null,
    ...Object.entries(filters)
      .filter(([, v]) => v !== undefined)
      .sort(),
  ]);
  const after = page.cursor === undefined ? undefined : readCursor(page.cursor, list);
  const limit = page.limit ?? 100;
  const sorted = (await listModels(filters, access))
    .map((model) => ({ model, key: sortKey(model) }))
    .sort((a, b) => (isAfter(a.key, b.key) ? 1 : -1));
  const rest = after ? sorted.filter(({ key }) => isAfter(key, after)) : sorted;
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rest.length > limit && last ? encodeCursor({ list, after: last.key } satisfies ModelsCursor) : null;
  return { items: items.map(({ model }) => model), nextCursor };
}

/** One model: a catalogue model, or (with the organization's access) one of its custom models. */
export async function getModel(modelId: string, access?: OrgAccess): Promise<ModelView> {
  const owner = isCustomModelId(modelId) ? (access ? orgKey(access.orgId) : undefined) : PLATFORM;
  const notFound = () => new NotFoundError(`No model ${modelId}`);
  if (!owner) throw notFound();
  const { data } = await hubDb.model.get({ owner, modelId }).go();
  const model = data ? modelFromItem(data) : owner === PLATFORM ? DEFAULT_MODELS[modelId] : undefined;
  if (!model) throw notFound();
  return view(model);
}

/**
 * The read of a model by id, to go in one request with a route's authorization (`authorizeOrg`
 * reads): with `orgId`, a custom model of that organization; otherwise the catalogue's row.
 */
export const modelRead = (modelId: string, orgId?: string) => ({
  op: hubDb.model.get({ owner: isCustomModelId(modelId) && orgId ? orgKey(orgId) : PLATFORM, modelId }),
  entity: hubDb.model,
});

/** Whether the model read by `modelRead` exists: its row, or a built-in model (in code, a row only once edited). */
export const modelExists = (modelId: string, row: ModelItem | null | undefined) => Boolean(row) || isBuiltInModel(modelId);

const ALIAS_PATH = 'aliases';

/** Aliases are unique in the catalogue and never another model's id. */
function checkAliases(modelId: string, aliases: string[], catalogue: Model[]) {
  const taken = new Map<string, string>();
  for (const m of catalogue)
    if (m.modelId !== modelId) [m.modelId, ...m.aliases].forEach((name) => taken.set(name.toLowerCase(), m.modelId));
  const clashes = aliases.filter((a) => taken.has(a.toLowerCase()) || a === modelId);
  if (clashes.length)
    throw new ConflictError(
      'Some aliases already name another model',
      clashes.map((a) => ({ path: ALIAS_PATH, message: `${a} already names ${taken.get(a.toLowerCase()) ?? 'this model'}` })),
    );
}

export function checkModelProvider(providers: Map<string, Provider>, input: Pick<Model, 'providerSlug'>) {
  const provider = requireProvider(providers, input.providerSlug);
  if (provider.status === 'Inactive')
    throw new ValidationError(`The provider ${provider.slug} is inactive`, [
      { path: 'providerSlug', message: 'Inactive provider' },
    ]);
  return provider;
}

async function writeCatalogueModel(owner: Owner, model: Model, before: Model | undefined) {
  const { modelId, orgId: _none, ...fields } = model;
  await transactWrite([
    put(hubDb.model.put({ ...fields, owner: PLATFORM, modelId, updatedBy: owner.actorId })),
    ...auditWrites(owner, 'model.saved', { type: 'model', id: modelId }, { before: before ?? null, after: model }),
  ]);
  forgetSnapshot(PLATFORM);
  return view({ ...model, updatedBy: owner.actorId, updatedAt: new Date().toISOString() });
}

/** Creates or replaces a catalogue model (platform admins): its provider must exist, its aliases be free. */
export async function saveCatalogueModel(owner: Owner, modelId: string, input: ModelInput): Promise<ModelView> {
  if (input.kind === 'custom')
    throw new ValidationError('Custom models belong to an organization', [{ path: 'kind', message: 'external or reference' }]);
  const platform = await loadSnapshot(PLATFORM);
  checkModelProvider(platform.providers, input);
  checkAliases(modelId, input.aliases, platform.models);
  const before = platform.models.find((m) => m.modelId === modelId);
  return writeCatalogueModel(owner, { ...input, modelId, createdAt: before?.createdAt }, before);
}

/** Changes some fields of a catalogue model (platform admins). */
export async function patchCatalogueModel(owner: Owner, modelId: string, changes: Partial<ModelInput>): Promise<ModelView> {
  const platform = await loadSnapshot(PLATFORM);
  const before = platform.models.find((m) => m.modelId === modelId);
  if (!before) throw new NotFoundError(`No model ${modelId}`);
  const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
  const model: Model = { ...before, ...defined, modelId };
  if (model.kind === 'custom')
    throw new ValidationError('Custom models belong to an organization', [{ path: 'kind', message: 'external or reference' }]);
  if (changes.providerSlug) checkModelProvider(platform.providers, model);
  if (changes.aliases) checkAliases(modelId, model.aliases, platform.models);
  return writeCatalogueModel(owner, model, before);
}

/**
 * Retires a catalogue model: a built-in one is deactivated (its definition lives in code), one
 * an admin added is removed. A model that a global routing rule names stays until the rule changes.
 */
export async function retireCatalogueModel(owner: Owner, modelId: string): Promise<void> {
  const platform = await loadSnapshot(PLATFORM);
  const before = platform.models.find((m) => m.modelId === modelId);
  if (!before) throw new NotFoundError(`No model ${modelId}`);
  const rules = platform.rules.filter((r) => ruleNames(r, modelId));
  if (rules.length)
    throw new ConflictError(`Global routing rules name ${modelId}: ${rules.map((r) => r.ruleId).join(', ')}; change them first`);
  if (isBuiltInModel(modelId)) {
    await writeCatalogueModel(owner, { ...before, status: 'Inactive' }, before);
    return;
  }
  await transactWrite([
    remove(hubDb.model.delete({ owner: PLATFORM, modelId })),
    ...auditWrites(owner, 'model.deleted', { type: 'model', id: modelId }, { before }),
  ]);
  forgetSnapshot(PLATFORM);
}

/** Whether a routing rule sends calls to the model (as a target or a fallback). */
export function ruleNames(rule: { targets: unknown; fallbacks?: string[] }, modelId: string): boolean {
  return (
    (rule.targets as Array<{ modelId: string }>).some((t) => t.modelId === modelId) || (rule.fallbacks ?? []).includes(modelId)
  );
}
