import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { OrgAccess } from '../identity/access.ts';
import { clock } from '../shared/clock.ts';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { badCursor, decodeCursor, encodeCursor } from '../shared/pages.ts';
import { dynamo } from '../shared/dynamo.ts';
import { check, conditionCheck, put, remove, transactGet, transactWrite, type WriteItem } from '../shared/transactions.ts';
import { DEFAULT_MODELS, type Model } from './default-models.ts';
import type { Provider } from './default-providers.ts';
import { hubDb, hubService, type Capability, type ModelItem, type RoutingRuleItem } from './entities.ts';
import { auditWrites, orgKey, PLATFORM, type Owner } from './owners.ts';
import { requireProvider } from './providers.ts';
import { forgetSnapshot, loadSnapshot, mergeModels, mergeProviders, modelFromItem } from './snapshot.ts';

/**
 * The model catalogue (DOMAIN.md §3, Model: one table, kind external / reference / custom).
 * Catalogue models: defaults in code, a platform admin's edit stored and winning; a built-in
 * model is deactivated rather than deleted. Custom models of an organization: custom-models.ts.
 */
export type ModelInput = Omit<Model, 'modelId' | 'orgId' | 'createdBy' | 'updatedBy' | 'createdAt' | 'updatedAt'>;

export const CUSTOM_MODEL_PREFIX = 'mdl_';
export const isCustomModelId = (modelId: string) => modelId.startsWith(CUSTOM_MODEL_PREFIX);
export const isBuiltInModel = (modelId: string) => Object.hasOwn(DEFAULT_MODELS, modelId);

/**
 * A model as shown. Its status is the one that counts: a model whose provider was removed or
 * deactivated cannot be called, so it shows as Inactive, as the status filter counts it
 * (`matchesFilters`), whatever its own status says.
 */
export const viewModel = (m: Model, providers: Map<string, Provider>) => ({
  ...m,
  status: (providerIsLive(providers, m) ? m.status : 'Inactive') as Model['status'],
  isBuiltIn: !m.orgId && isBuiltInModel(m.modelId),
});
export type ModelView = ReturnType<typeof viewModel>;

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
    .map((m) => viewModel(m, platform.providers));
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

/**
 * One model: a catalogue model, or (with the organization's access) one of its custom models.
 * Read with the provider catalogue, in one request, for the status it shows (`viewModel`).
 */
export async function getModel(modelId: string, access?: OrgAccess): Promise<ModelView> {
  const owner = isCustomModelId(modelId) ? (access ? orgKey(access.orgId) : undefined) : PLATFORM;
  const notFound = () => new NotFoundError(`No model ${modelId}`);
  if (!owner) throw notFound();
  const [row, catalogue] = await transactGet<[ModelItem | null, { providers?: unknown } | null]>([
    { op: hubDb.model.get({ owner, modelId }), entity: hubDb.model },
    { op: hubDb.providerCatalogue.get({ owner: PLATFORM }), entity: hubDb.providerCatalogue },
  ]);
  const model = row ? modelFromItem(row) : owner === PLATFORM && isBuiltInModel(modelId) ? DEFAULT_MODELS[modelId] : undefined;
  if (!model) throw notFound();
  return viewModel(model, mergeProviders(catalogue?.providers));
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
const ID_PATH = 'params.modelId';

const aliasClash = (clashes: Array<{ alias: string; owner: string }>) =>
  new ConflictError(
    'Some aliases already name another model',
    clashes.map(({ alias, owner }) => ({ path: ALIAS_PATH, message: `${alias} already names ${owner}` })),
  );
const idClash = (modelId: string, owner: string) =>
  new ConflictError(`${modelId} is already an alias of ${owner}: a call naming it would reach this model instead`, [
    { path: ID_PATH, message: `Already an alias of ${owner}` },
  ]);
const changedMeanwhile = (modelId: string) => new ConflictError(`The model ${modelId} changed meanwhile; retry`);

/**
 * Aliases are unique in the catalogue and never another model's id, and a model's id is never
 * another model's alias (a call names a model by its id before any alias, so either would send
 * the calls naming one model to another). Checked against the catalogue as read; the write
 * holds it against concurrent ones (`writeCatalogueModel`).
 */
function checkAliases(modelId: string, aliases: string[], catalogue: Model[]) {
  const taken = new Map<string, string>();
  for (const m of catalogue)
    if (m.modelId !== modelId) [m.modelId, ...m.aliases].forEach((name) => taken.set(name.toLowerCase(), m.modelId));
  const idOwner = taken.get(modelId.toLowerCase());
  if (idOwner) throw idClash(modelId, idOwner);
  const clashes = aliases.filter((a) => taken.has(a.toLowerCase()) || a === modelId);
  if (clashes.length)
    throw aliasClash(clashes.map((alias) => ({ alias, owner: taken.get(alias.toLowerCase()) ?? 'this model' })));
}

export function checkModelProvider(providers: Map<string, Provider>, input: Pick<Model, 'providerSlug'>) {
  const provider = requireProvider(providers, input.providerSlug);
  if (provider.status === 'Inactive')
    throw new ValidationError(`The provider ${provider.slug} is inactive`, [
      { path: 'providerSlug', message: 'Inactive provider' },
    ]);
  return provider;
}

/**
 * The global rules' writes that may have named a model (a rule created, or its targets or
 * fallbacks changed), counted on the platform's rule counter (routing-rules.ts `countRule`).
 */
export const GLOBAL_RULE_WRITES = 'writes';
const ruleCounterKey = () =>
  hubDb.routingRuleCount.get({ owner: PLATFORM }).params() as { TableName: string; Key: { pk: string; sk: string } };

/**
 * The catalogue as it is now, for a write: one strongly consistent Query of the platform's hub
 * partition (the snapshot's, which may lag), since the write holds only if what it read is current.
 * The same request reads the platform's rule counter (`ruleWrites`: the global rules' writes so
 * far), outside the `hub` collection but in its partition, its key just after the collection's:
 * the key range reaches it (no request more), and the Query runs backwards so that it comes first,
 * before the rules (a Query reads its items in key order, each as committed then): a rule saved
 * after it was read moved it; one saved before is among the rules read (`refuseWhileRulesName`).
 */
async function readCatalogue() {
  const hub = hubService().collections.hub({ owner: PLATFORM }).params({ consistent: true }) as QueryCommandInput & {
    FilterExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  };
  const counter = ruleCounterKey().Key;
  const query: QueryCommandInput = {
    ...hub,
    KeyConditionExpression: '#pk = :pk and #sk1 BETWEEN :sk1 AND :counterSk',
    FilterExpression: `${hub.FilterExpression} OR #__edb_e__ = :counterEntity`,
    ExpressionAttributeValues: {
      ...hub.ExpressionAttributeValues,
      ':counterSk': counter.sk,
      ':counterEntity': 'routingrulecount',
    },
    ScanIndexForward: false,
  };
  const items: Array<Record<string, unknown>> = [];
  let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
  do {
    const page = await dynamo().send(new QueryCommand({ ...query, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  // Each entity keeps its own items (`parse` leaves out the others').
  const parsed = <T>(entity: { parse(response: any): { data: unknown } }) => entity.parse({ Items: items }).data as T[];
  return {
    providers: mergeProviders(parsed<{ providers?: unknown }>(hubDb.providerCatalogue)[0]?.providers),
    models: mergeModels(parsed<ModelItem>(hubDb.model).map(modelFromItem)),
    rules: parsed<RoutingRuleItem>(hubDb.routingRule),
    ruleWrites: items.find((item) => item.sk === counter.sk)?.[GLOBAL_RULE_WRITES] as number | undefined,
  };
}
type Catalogue = Awaited<ReturnType<typeof readCatalogue>>;

/** Whether a write retires a catalogue model that was not: deletes it, or makes it Inactive. */
const retires = (before: Model | undefined, after: Model | undefined) =>
  Boolean(before) && (!after || (after.status === 'Inactive' && before!.status !== 'Inactive'));

/** A ConditionCheck that no global rule was written since `read` (`readCatalogue`'s `ruleWrites`). */
const noGlobalRuleWritten = (read: number | undefined): WriteItem =>
  check({
    params: () => ({
      ...ruleCounterKey(),
      ConditionExpression: read === undefined ? 'attribute_not_exists(#writes)' : '#writes = :read',
      ExpressionAttributeNames: { '#writes': GLOBAL_RULE_WRITES },
      ...(read === undefined ? {} : { ExpressionAttributeValues: { ':read': read } }),
    }),
  });

/**
 * A write that retires `modelId` is refused (409) while a global routing rule names the model in
 * the catalogue as read. The write conditions on the global rules' writes as read with the
 * catalogue (`ruleWrites`), so a rule saved since makes the retirement a 409 that
 * changes nothing; a rule's write checks that the models it names are not retired
 * (routing-rules.ts `catalogueModelLive`), so one saved after the retirement is refused.
 */
function refuseWhileRulesName(catalogue: Catalogue, modelId: string) {
  const rules = catalogue.rules.filter((r) => ruleNames(r, modelId));
  if (rules.length)
    throw new ConflictError(`Global routing rules name ${modelId}: ${rules.map((r) => r.ruleId).join(', ')}; change them first`);
}

/** A condition that no catalogue model (one admins added) has this id: an alias that is one would never reach its model. */
export const notACatalogueModel = (alias: string): WriteItem =>
  conditionCheck(hubDb.model, { owner: PLATFORM, modelId: alias }, (attributes, { notExists }) => notExists(attributes.modelId));
const aliasKey = (alias: string) => ({ owner: PLATFORM, alias: alias.toLowerCase() });

/**
 * Writes a catalogue model (`after`; undefined deletes it) with its audit row, in one
 * transaction that holds only if what it was decided on is still so:
 * - the model's row is as read (its `updatedAt`; none for a new model or a built-in one never
 *   edited), so of two concurrent edits of one model (a change and a retirement too) one is a
 *   409 that changes nothing;
 * - each alias it gains is reserved by an item of its own (`modelAlias` in the platform's
 *   partition), created only if there is none, and no model has it as its id; each alias it
 *   drops frees its item. So two models given one alias at once do not both get it;
 * - a new model's id is reserved by no alias;
 * - a retirement (`ruleWrites`, `refuseWhileRulesName`): no global routing rule was written since
 *   the read (the global rules' writes as read).
 * The built-in models' aliases live in code, which no write races: `checkAliases` holds them
 * until an admin edits the model, and an alias gained from then on is reserved like any other.
 * No request more than the write: conditions, not reads. Answers the model as stored (none once
 * deleted): its `updatedAt` is named here (the domain's clock), not stamped by the entity, so a
 * route answers the time a GET shows, the one the next write's lock compares. A model stored for
 * the first time (a new one, or a built-in one first edited) is created then.
 */
async function writeCatalogueModel(
  owner: Owner,
  modelId: string,
  before: Model | undefined,
  after: Model | undefined,
  audit: { action: 'model.saved' | 'model.deleted'; details: Record<string, unknown> },
  retiring?: { ruleWrites: number | undefined },
): Promise<Model | undefined> {
  const read = before?.updatedAt;
  const asRead = ({ updatedAt }: { updatedAt: unknown }, { eq, notExists }: { eq: any; notExists: any }): string =>
    read ? eq(updatedAt, read) : notExists(updatedAt);
  const had = [...new Set(before?.aliases ?? [])];
  const has = [...new Set(after?.aliases ?? [])];
  const added = has.filter((a) => !had.includes(a));
  const dropped = had.filter((a) => !has.includes(a));
  const isNew = !before;
  const now = clock.nowIso();
  const stored = after && { ...after, modelId, updatedBy: owner.actorId, createdAt: after.createdAt ?? now, updatedAt: now };
  let write: WriteItem;
  if (stored) {
    const { modelId: _id, orgId: _none, ...fields } = stored;
    write = put(hubDb.model.put({ ...fields, owner: PLATFORM, modelId }).where(asRead));
  } else write = remove(hubDb.model.delete({ owner: PLATFORM, modelId }).where(asRead));
  const outcome = await transactWrite([
    write,
    ...added.map((alias) => put(hubDb.modelAlias.create({ ...aliasKey(alias), modelId }))),
    ...added.map(notACatalogueModel),
    ...dropped.map((alias) =>
      remove(
        hubDb.modelAlias
          .delete(aliasKey(alias))
          .where((attributes, { eq, notExists }) => `${notExists(attributes.alias)} OR ${eq(attributes.modelId, modelId)}`),
      ),
    ),
    ...(isNew
      ? [conditionCheck(hubDb.modelAlias, aliasKey(modelId), (attributes, { notExists }) => notExists(attributes.alias))]
      : []),
    ...auditWrites(owner, audit.action, { type: 'model', id: modelId }, audit.details),
    ...(retiring ? [noGlobalRuleWritten(retiring.ruleWrites)] : []),
  ]);
  if (outcome.canceled) {
    const failed = (i: number) => outcome.reasons[i] === 'ConditionalCheckFailed';
    if (failed(0)) throw changedMeanwhile(modelId);
    if (retiring && failed(outcome.reasons.length - 1))
      throw new ConflictError(`A global routing rule was saved meanwhile, which may name ${modelId}; retry`);
    const reserved = added.filter((_, i) => failed(1 + i));
    if (reserved.length) throw aliasClash(reserved.map((alias) => ({ alias, owner: 'another model' })));
    const ids = added.filter((_, i) => failed(1 + added.length + i));
    if (ids.length) throw aliasClash(ids.map((alias) => ({ alias, owner: `the model ${alias} (its id)` })));
    if (isNew && failed(1 + 2 * added.length + dropped.length)) throw idClash(modelId, 'another model');
    throw changedMeanwhile(modelId);
  }
  forgetSnapshot(PLATFORM);
  return stored;
}

/** Creates or replaces a catalogue model (platform admins): its provider must exist, its aliases be free. */
export async function saveCatalogueModel(owner: Owner, modelId: string, input: ModelInput): Promise<ModelView> {
  if (input.kind === 'custom')
    throw new ValidationError('Custom models belong to an organization', [{ path: 'kind', message: 'external or reference' }]);
  const catalogue = await readCatalogue();
  checkModelProvider(catalogue.providers, input);
  // Each alias once: one item reserves each.
  const aliases = [...new Set(input.aliases)];
  checkAliases(modelId, aliases, catalogue.models);
  const before = catalogue.models.find((m) => m.modelId === modelId);
  const retiring = retires(before, { ...input, modelId });
  if (retiring) refuseWhileRulesName(catalogue, modelId);
  const model: Model = { ...input, aliases, modelId, createdAt: before?.createdAt };
  const stored = await writeCatalogueModel(
    owner,
    modelId,
    before,
    model,
    { action: 'model.saved', details: { before: before ?? null, after: model } },
    retiring ? { ruleWrites: catalogue.ruleWrites } : undefined,
  );
  return viewModel(stored!, catalogue.providers);
}

/** Changes some fields of a catalogue model (platform admins). */
export async function patchCatalogueModel(owner: Owner, modelId: string, changes: Partial<ModelInput>): Promise<ModelView> {
  const catalogue = await readCatalogue();
  const before = catalogue.models.find((m) => m.modelId === modelId);
  if (!before) throw new NotFoundError(`No model ${modelId}`);
  const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<Model>;
  if (defined.aliases) defined.aliases = [...new Set(defined.aliases)];
  const model: Model = { ...before, ...defined, modelId };
  if (model.kind === 'custom')
    throw new ValidationError('Custom models belong to an organization', [{ path: 'kind', message: 'external or reference' }]);
  if (changes.providerSlug) checkModelProvider(catalogue.providers, model);
  if (changes.aliases) checkAliases(modelId, model.aliases, catalogue.models);
  // Made Inactive, it is retired as DELETE retires it: not while a global rule names it.
  const retiring = retires(before, model);
  if (retiring) refuseWhileRulesName(catalogue, modelId);
  const stored = await writeCatalogueModel(
    owner,
    modelId,
    before,
    model,
    { action: 'model.saved', details: { before, after: model } },
    retiring ? { ruleWrites: catalogue.ruleWrites } : undefined,
  );
  return viewModel(stored!, catalogue.providers);
}

/**
 * Retires a catalogue model: a built-in one is deactivated (its definition lives in code), one
 * an admin added is removed with its aliases. A model that a global routing rule names stays
 * until the rule changes, even when the rule is saved as the model is retired (`refuseWhileRulesName`).
 */
export async function retireCatalogueModel(owner: Owner, modelId: string): Promise<void> {
  const catalogue = await readCatalogue();
  const before = catalogue.models.find((m) => m.modelId === modelId);
  if (!before) throw new NotFoundError(`No model ${modelId}`);
  refuseWhileRulesName(catalogue, modelId);
  const retiring = { ruleWrites: catalogue.ruleWrites };
  if (isBuiltInModel(modelId)) {
    const after: Model = { ...before, status: 'Inactive' };
    await writeCatalogueModel(owner, modelId, before, after, { action: 'model.saved', details: { before, after } }, retiring);
    return;
  }
  await writeCatalogueModel(owner, modelId, before, undefined, { action: 'model.deleted', details: { before } }, retiring);
}

/** Whether a routing rule sends calls to the model (as a target or a fallback). */
export function ruleNames(rule: { targets: unknown; fallbacks?: string[] }, modelId: string): boolean {
  return (
    (rule.targets as Array<{ modelId: string }>).some((t) => t.modelId === modelId) || (rule.fallbacks ?? []).includes(modelId)
  );
}
