import type { OrgAccess } from '../identity/access.ts';
import { clock } from '../shared/clock.ts';
import { ConflictError, NotFoundError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import {
  conditionOf,
  put,
  remove,
  returningOnFailure,
  transactGet,
  transactWrite,
  update,
  type WriteItem,
} from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';
import { DEFAULT_MODELS, type Model } from './default-models.ts';
import { hubDb, type ModelItem } from './entities.ts';
import {
  checkModelProvider,
  getModel,
  isCustomModelId,
  notACatalogueModel,
  ruleNames,
  viewModel,
  type ModelInput,
  type ModelView,
} from './models.ts';
import { auditWrites, orgKey, orgOwner, PLATFORM } from './owners.ts';
import { cachedSnapshot, forgetSnapshot, loadSnapshot, mergeProviders, modelFromItem } from './snapshot.ts';

/**
 * An organization's own models (kind `custom`): a fine-tune or a model behind an
 * OpenAI-compatible server, called through one of the catalogue's providers. Their aliases are
 * unique within the organization (one item per alias, written under a condition in the same
 * transaction as the model) and, for that organization, shadow the catalogue's aliases.
 */
export type CustomModelInput = Omit<ModelInput, 'kind'>;

const notFound = (modelId: string) => new NotFoundError(`No model ${modelId} in this organization`);
const aliasTaken = () =>
  new ConflictError('An alias is already used by another model of this organization', [
    { path: 'aliases', message: 'Already used' },
  ]);

const aliasWrites = (owner: string, modelId: string, added: string[], dropped: string[]): WriteItem[] => [
  ...added.map((alias) => put(hubDb.modelAlias.create({ owner, alias: alias.toLowerCase(), modelId }))),
  ...dropped.map((alias) => remove(hubDb.modelAlias.delete({ owner, alias: alias.toLowerCase() }))),
];

/**
 * An organization's ids and aliases are matched before the catalogue's (gateway `matchModel`), so
 * an alias that is a catalogue model's id (even a retired one's) would hide that model from the
 * organization: refused. A catalogue model given such an id later (new, or brought back) does not
 * take the organization's calls naming its alias: they still reach its own model.
 */
function checkAliasesNotCatalogueIds(aliases: string[], catalogue: ReadonlyArray<Pick<Model, 'modelId'>>) {
  const ids = new Set(catalogue.map((m) => m.modelId.toLowerCase()));
  const clashes = aliases.filter((a) => ids.has(a));
  if (clashes.length)
    throw new ConflictError(
      'Some aliases are ids of catalogue models: the organization could no longer call those models by their id',
      clashes.map((a) => ({ path: 'aliases', message: `${a} is the id of a catalogue model` })),
    );
}

export async function createCustomModel(access: OrgAccess, input: CustomModelInput): Promise<ModelView> {
  // The provider catalogue and the catalogue's models in one query.
  const platform = await loadSnapshot(PLATFORM);
  checkModelProvider(platform.providers, input);
  const owner = orgKey(access.orgId);
  const modelId = newId('mdl');
  const now = clock.nowIso();
  const aliases = [...new Set(input.aliases.map((a) => a.toLowerCase()))];
  checkAliasesNotCatalogueIds(aliases, platform.models);
  const model: Model = { ...input, aliases, kind: 'custom', modelId, orgId: access.orgId, createdBy: access.actorId };
  const { orgId: _o, ...fields } = model;
  // The snapshot may lag: the models admins added are checked in the write, as in `patchCustomModel`.
  const outcome = await transactWrite([
    put(hubDb.model.create({ ...fields, owner, createdAt: now, updatedAt: now })),
    ...aliasWrites(owner, modelId, aliases, []),
    ...aliases.map(notACatalogueModel),
    ...auditWrites(orgOwner(access), 'model.saved', { type: 'model', id: modelId }, { after: model }),
  ]);
  if (outcome.canceled) {
    const firstCheck = 1 + aliases.length;
    const catalogueIds = aliases.filter((_, i) => outcome.reasons[firstCheck + i] === 'ConditionalCheckFailed');
    if (catalogueIds.length)
      checkAliasesNotCatalogueIds(
        catalogueIds,
        catalogueIds.map((id) => ({ modelId: id })),
      );
    throw aliasTaken();
  }
  forgetSnapshot(owner);
  return viewModel({ ...model, createdAt: now, updatedAt: now }, platform.providers);
}

/**
 * The organization's custom models, each with the status that counts (`viewModel`: Inactive once
 * its provider is removed or inactive), as the catalogue's list and the gateway see it. The
 * providers come from the platform's snapshot, from memory when fresh.
 */
export async function listCustomModels(access: OrgAccess, options: { cursor?: string; limit?: number }) {
  const [{ data, cursor }, platform] = await Promise.all([
    pageOf(hubDb.model.query.byOwner({ owner: orgKey(access.orgId) }), {
      cursor: options.cursor,
      limit: options.limit ?? 50,
      order: 'asc',
    }),
    cachedSnapshot(PLATFORM),
  ]);
  return { items: data.map((item) => viewModel(modelFromItem(item), platform.providers)), nextCursor: cursor };
}

/** One custom model of the organization, read with the provider catalogue (`getModel`) for the status it shows. */
export async function getCustomModel(access: OrgAccess, modelId: string): Promise<ModelView> {
  if (!isCustomModelId(modelId)) throw notFound(modelId);
  return getModel(modelId, access).catch((error: unknown) => {
    throw error instanceof NotFoundError ? notFound(modelId) : error;
  });
}

export async function patchCustomModel(
  access: OrgAccess,
  modelId: string,
  changes: Partial<CustomModelInput>,
): Promise<ModelView> {
  const owner = orgKey(access.orgId);
  // The model and the provider catalogue in one read.
  const [item, catalogue] = await transactGet<[ModelItem, { providers?: unknown }]>([
    { op: hubDb.model.get({ owner, modelId }), entity: hubDb.model },
    { op: hubDb.providerCatalogue.get({ owner: PLATFORM }), entity: hubDb.providerCatalogue },
  ]);
  if (!item) throw notFound(modelId);
  const before = modelFromItem(item);
  const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<Model>;
  if (defined.aliases) defined.aliases = [...new Set(defined.aliases.map((a) => a.toLowerCase()))];
  const after: Model = { ...before, ...defined, modelId, kind: 'custom', updatedBy: access.actorId };
  if (changes.providerSlug) checkModelProvider(mergeProviders(catalogue?.providers), after);

  const added = after.aliases.filter((a) => !before.aliases.includes(a));
  // The built-in catalogue is in code; the models admins added are checked in the write (no read more).
  checkAliasesNotCatalogueIds(added, Object.values(DEFAULT_MODELS));
  const catalogueChecks = added.map(notACatalogueModel);
  const dropped = before.aliases.filter((a) => !after.aliases.includes(a));
  const {
    modelId: _m,
    orgId: _o,
    kind: _k,
    createdAt: _c,
    updatedAt: _u,
    createdBy: _b,
    ...fields
  } = { ...defined, updatedBy: access.actorId };
  // Named here, not stamped by the entity: the model answered is the one stored, to the millisecond.
  const updatedAt = clock.nowIso();
  const outcome = await transactWrite([
    update(
      hubDb.model
        .patch({ owner, modelId })
        .set({ ...fields, updatedAt } as never)
        .where(({ updatedAt }, { eq }) => eq(updatedAt, before.updatedAt!)),
    ),
    ...aliasWrites(owner, modelId, added, dropped),
    ...catalogueChecks,
    ...auditWrites(orgOwner(access), 'model.saved', { type: 'model', id: modelId }, { before, after }),
  ]);
  if (outcome.canceled) {
    if (outcome.reasons[0] === 'ConditionalCheckFailed') throw new ConflictError('The model changed meanwhile; retry');
    const firstCheck = 1 + added.length + dropped.length;
    const catalogueIds = added.filter((_, i) => outcome.reasons[firstCheck + i] === 'ConditionalCheckFailed');
    if (catalogueIds.length)
      checkAliasesNotCatalogueIds(
        catalogueIds,
        catalogueIds.map((id) => ({ modelId: id })),
      );
    throw aliasTaken();
  }
  forgetSnapshot(owner);
  return viewModel({ ...after, updatedAt }, mergeProviders(catalogue?.providers));
}

/**
 * A routing rule write's mark on a custom model the rule names, in the rule's transaction: it
 * fails when the model is gone (deleted after the rule read it), and adds 1 to the model's
 * `ruleWrites`, on which a deletion conditions (`deleteCustomModel`). A bare UpdateItem rather
 * than an ElectroDB patch, which would also move `updatedAt`: a rule naming a model does not
 * change the model.
 */
export function markNamedByRule(owner: string, modelId: string): WriteItem {
  const exists = conditionOf(hubDb.model, { owner, modelId }, (attributes, { exists }) =>
    exists(attributes.modelId),
  ).params() as { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> };
  return update({
    params: () => ({
      ...exists,
      UpdateExpression: 'ADD #ruleWrites :one',
      ExpressionAttributeNames: { ...exists.ExpressionAttributeNames, '#ruleWrites': 'ruleWrites' },
      ExpressionAttributeValues: { ...exists.ExpressionAttributeValues, ':one': 1 },
    }),
  });
}

/** The model a deletion reads first, to go with the authorization (`httpHandler`'s preload, `access.preloaded`). */
export const deletionReads = (orgId: string, modelId: string) => [
  { op: hubDb.model.get({ owner: orgKey(orgId), modelId }), entity: hubDb.model },
];

/**
 * Deletes a custom model with its aliases; refused while a routing rule of the organization
 * sends calls to it. The model is read before the rules (with the authorization, when it was
 * preloaded: `deletionReads`), and the deletion conditions on the model as read: a rule naming
 * it that is too new for the rules read committed after the model read, so it moved
 * `ruleWrites` (`markNamedByRule`) and the deletion is refused (409) rather than leave the
 * rule naming nothing. An edit meanwhile (`updatedAt`) is refused the same way: the aliases
 * removed are those read.
 */
export async function deleteCustomModel(access: OrgAccess, modelId: string): Promise<void> {
  const owner = orgKey(access.orgId);
  const item = access.preloaded?.length
    ? (access.preloaded[0] as ModelItem | null)
    : (await hubDb.model.get({ owner, modelId }).go({ consistent: true })).data;
  if (!item) throw notFound(modelId);
  const { data: rules } = await hubDb.routingRule.query.byOwner({ owner }).go({ pages: 'all', consistent: true });
  const naming = rules.filter((r) => ruleNames(r, modelId));
  if (naming.length)
    throw new ConflictError(
      `Routing rules send calls to this model: ${naming.map((r) => r.ruleId).join(', ')}; change them first`,
    );
  const model = modelFromItem(item);
  const outcome = await transactWrite([
    returningOnFailure(
      remove(
        hubDb.model
          .delete({ owner, modelId })
          .where(
            ({ ruleWrites, updatedAt }, { eq, notExists }) =>
              `${item.ruleWrites === undefined ? notExists(ruleWrites) : eq(ruleWrites, item.ruleWrites)} AND ${eq(updatedAt, item.updatedAt)}`,
          ),
      ),
    ),
    ...aliasWrites(owner, modelId, [], model.aliases),
    ...auditWrites(orgOwner(access), 'model.deleted', { type: 'model', id: modelId }, { before: model }),
  ]);
  if (outcome.canceled) {
    if (!outcome.items[0]) throw notFound(modelId);
    throw new ConflictError('The model changed or a routing rule named it meanwhile; retry');
  }
  forgetSnapshot(owner);
}
