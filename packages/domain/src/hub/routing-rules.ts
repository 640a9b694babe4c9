import type { ModelType } from '../gateway/types.ts';
import { clock } from '../shared/clock.ts';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { conditionCheck, put, remove, transactGet, transactWrite, update, type WriteItem } from '../shared/transactions.ts';
import { DEFAULT_MODELS, type Model } from './default-models.ts';
import { hubDb, type ModelItem, type RoutingRuleItem } from './entities.ts';
import { markNamedByRule } from './custom-models.ts';
import { GLOBAL_RULE_WRITES, isBuiltInModel, isCustomModelId } from './models.ts';
import { auditWrites, PLATFORM, type Owner } from './owners.ts';
import { forgetSnapshot, modelFromItem } from './snapshot.ts';

/**
 * Routing rules (DOMAIN.md §3, RoutingRule + RoutingRuleModel): per organization, or global
 * (platform admins). A rule applies to calls of its model type when its conditions hold, and
 * sends them to one of its weighted targets, then the other targets, then its fallbacks, in
 * order (gateway/routing.ts). Priority 1 is tried first; an organization's rules before the
 * global ones. Targets and fallbacks name models that exist when the rule is saved, of a
 * compatible type: the catalogue's, or (for an organization) its own custom models.
 */
export interface RuleConditions {
  /** The requested model (id, provider model id or alias) is one of these. */
  models?: string[];
  /** The organization's plan is one of these. */
  planIds?: string[];
  /** The call carries every one of these tags. */
  tags?: string[];
  /** Only targets and fallbacks whose larger per-million-token price is at most this (micro-USD). */
  maxCostPerMTokMicros?: number;
}

export interface RuleTarget {
  modelId: string;
  weight: number;
  notes?: string;
  tags?: string[];
}

export interface RoutingRuleInput {
  name: string;
  description?: string;
  priority: number;
  modelType: ModelType;
  conditions: RuleConditions;
  targets: RuleTarget[];
  fallbacks: string[];
  isActive: boolean;
}

export interface RoutingRule extends RoutingRuleInput {
  ruleId: string;
  scope: 'org' | 'global';
  orgId?: string;
  createdBy: string;
  updatedBy?: string;
  createdAt: string;
  updatedAt: string;
}

export function ruleFromItem(item: RoutingRuleItem): RoutingRule {
  const { owner, ...rest } = item;
  return {
    ...rest,
    conditions: (rest.conditions ?? {}) as RuleConditions,
    targets: (rest.targets ?? []) as RuleTarget[],
    fallbacks: rest.fallbacks ?? [],
    scope: owner === PLATFORM ? 'global' : 'org',
    ...(owner.startsWith('org#') ? { orgId: owner.slice(4) } : {}),
  };
}

/** TEXT and CODE models both chat; other types only serve their own. */
export function typesCompatible(a: ModelType, b: ModelType): boolean {
  const family = (t: ModelType) => (t === 'CODE' ? 'TEXT' : t);
  return family(a) === family(b);
}

const isCustomFor = (owner: Owner, modelId: string) => owner.kind === 'org' && isCustomModelId(modelId);

/** The rule (when given) and the models named, read in one request: catalogue rows (defaults when never edited) and the organization's custom models. */
async function read(owner: Owner, ruleId: string | undefined, ids: string[]) {
  const unique = [...new Set(ids)];
  const keys = unique.map((modelId) => ({ owner: isCustomFor(owner, modelId) ? owner.key : PLATFORM, modelId }));
  const reads = [
    ...(ruleId ? [{ op: hubDb.routingRule.get({ owner: owner.key, ruleId }), entity: hubDb.routingRule }] : []),
    ...keys.map((key) => ({ op: hubDb.model.get(key), entity: hubDb.model })),
  ];
  const rows = reads.length ? await transactGet<Array<ModelItem | RoutingRuleItem>>(reads) : [];
  const rule = ruleId ? (rows.shift() as RoutingRuleItem | null) : null;
  const models = new Map<string, Model>();
  unique.forEach((modelId, i) => {
    const row = rows[i] as ModelItem | null;
    const model = row ? modelFromItem(row) : isBuiltInModel(modelId) ? DEFAULT_MODELS[modelId] : undefined;
    if (model) models.set(modelId, model);
  });
  return { rule, models };
}

const namedIn = (rule: Partial<RoutingRuleInput>) => [...(rule.targets ?? []).map((t) => t.modelId), ...(rule.fallbacks ?? [])];

function checkRule(owner: Owner, rule: RoutingRuleInput, models: Map<string, Model>) {
  const errors: FieldError[] = [];
  const references = [
    ...rule.targets.map((t, i) => ({ modelId: t.modelId, path: `targets.${i}.modelId` })),
    ...rule.fallbacks.map((modelId, i) => ({ modelId, path: `fallbacks.${i}` })),
  ];
  for (const r of references) {
    const model = models.get(r.modelId);
    if (isCustomModelId(r.modelId) && owner.kind !== 'org')
      errors.push({ path: r.path, message: 'Global rules route to catalogue models only' });
    else if (!model) errors.push({ path: r.path, message: `No model ${r.modelId}` });
    // The router skips a retired model (gateway/routing.ts): a rule naming one would route nowhere.
    else if (model.status === 'Inactive') errors.push({ path: r.path, message: `${r.modelId} is retired (Inactive)` });
    else if (!typesCompatible(model.type, rule.modelType))
      errors.push({ path: r.path, message: `${r.modelId} is a ${model.type} model; this rule routes ${rule.modelType}` });
  }
  if (errors.length) throw new ValidationError('The rule names models it cannot route to', errors);
}

/**
 * The organization's custom models a rule names, marked in the rule's write: each mark fails
 * when the model was deleted after the rule's read, and makes a deletion that read the model
 * before this write fail (custom-models.ts `markNamedByRule`).
 */
const customModelsNamed = (owner: Owner, rule: Partial<RoutingRuleInput>) =>
  [...new Set(namedIn(rule))].filter((modelId) => isCustomFor(owner, modelId));

/**
 * A global rule's checks, in its write, that the catalogue models it names are not retired since
 * its read: a built-in model has no row (its definition in code) or one not Inactive; a model an
 * admin added still has its row, not Inactive. So a rule saved after a retirement is refused
 * (400, as if it had read the model retired), and one saved before it makes the retirement a 409
 * (`countRule`: models.ts `refuseWhileRulesName`). Only checks: a rule naming a model does not
 * change the model, whose built-in definition keeps following the code.
 */
const catalogueModelsNamed = (owner: Owner, rule: Partial<RoutingRuleInput>) =>
  owner.kind === 'platform' ? [...new Set(namedIn(rule))] : [];
const catalogueModelLive = (modelId: string): WriteItem =>
  conditionCheck(hubDb.model, { owner: PLATFORM, modelId }, ({ modelId: id, status }, { exists, notExists, ne }) =>
    isBuiltInModel(modelId) ? `${notExists(id)} OR ${ne(status, 'Inactive')}` : `${exists(id)} AND ${ne(status, 'Inactive')}`,
  );

/**
 * After a rule's write was canceled by its checks: the custom models found gone are refused as a
 * rule saved after their deletion would be, the catalogue models as retired (400); with none, a
 * concurrent change (409). `reasons` are those of `custom`'s marks, then `catalogue`'s checks.
 */
function refuseGoneModels(
  owner: Owner,
  rule: RoutingRuleInput,
  models: Map<string, Model>,
  named: { custom: string[]; catalogue: string[] },
  reasons: string[],
) {
  const failed = [...named.custom, ...named.catalogue].filter((_, i) => reasons[i] === 'ConditionalCheckFailed');
  const remaining = new Map(
    [...models]
      .filter(([modelId]) => !(failed.includes(modelId) && named.custom.includes(modelId)))
      .map(([modelId, model]): [string, Model] => [modelId, failed.includes(modelId) ? { ...model, status: 'Inactive' } : model]),
  );
  checkRule(owner, rule, remaining);
  return new ConflictError('A model the rule names changed meanwhile; retry');
}

/**
 * Rules per organization, and global rules: every call tries them in order, and their lists come
 * whole (`GET …/routing-rules` takes no cursor), so both stay bounded.
 */
export const MAX_RULES = 100;

/**
 * The owner's rule counter, moved by a rule's write: `more` (a creation) adds one rule, refused
 * (the transaction canceled) when the owner has MAX_RULES already. A global rule's write that may
 * name a model (a creation, new targets or fallbacks) also adds one to the platform's
 * GLOBAL_RULE_WRITES, which a retirement reads with the catalogue and conditions on (models.ts
 * `refuseWhileRulesName`). Added to ElectroDB's update, whose entity does not know the attribute.
 */
function countRule(owner: Owner, more: 0 | 1): WriteItem {
  const counted = hubDb.routingRuleCount.update({ owner: owner.key }).add({ rules: more });
  const op = more ? counted.where(({ rules }, { notExists, lt }) => `${notExists(rules)} OR ${lt(rules, MAX_RULES)}`) : counted;
  if (owner.kind !== 'platform') return update(op);
  const params = op.params() as {
    UpdateExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  };
  return update({
    params: () => ({
      ...params,
      // ElectroDB ends the expression with its ADD clause (`rules`): one more action in it.
      UpdateExpression: `${params.UpdateExpression}, #ruleWrites :oneWrite`,
      ExpressionAttributeNames: { ...params.ExpressionAttributeNames, '#ruleWrites': GLOBAL_RULE_WRITES },
      ExpressionAttributeValues: { ...params.ExpressionAttributeValues, ':oneWrite': 1 },
    }),
  });
}

export async function createRule(owner: Owner, input: RoutingRuleInput): Promise<RoutingRule> {
  const { models } = await read(owner, undefined, namedIn(input));
  checkRule(owner, input, models);
  const ruleId = newId('rtr');
  const now = clock.nowIso();
  const item: RoutingRuleItem = { ...input, owner: owner.key, ruleId, createdBy: owner.actorId, createdAt: now, updatedAt: now };
  const named = { custom: customModelsNamed(owner, input), catalogue: catalogueModelsNamed(owner, input) };
  const outcome = await transactWrite([
    put(hubDb.routingRule.create(item)),
    countRule(owner, 1),
    ...named.custom.map((modelId) => markNamedByRule(owner.key, modelId)),
    ...named.catalogue.map(catalogueModelLive),
    ...auditWrites(owner, 'routing-rule.created', { type: 'routing-rule', id: ruleId }, { after: input }),
  ]);
  if (outcome.canceled && outcome.reasons[1] === 'ConditionalCheckFailed')
    throw new ConflictError(
      `${owner.kind === 'platform' ? 'The platform has' : 'An organization has'} at most ${MAX_RULES} routing rules; delete one first`,
    );
  if (outcome.canceled) throw refuseGoneModels(owner, input, models, named, outcome.reasons.slice(2));
  forgetSnapshot(owner.key);
  return ruleFromItem(item);
}

/** Every rule of the owner, in the order they are tried (priority, then age). */
export async function listRules(owner: Owner): Promise<RoutingRule[]> {
  const { data } = await hubDb.routingRule.query.byOwner({ owner: owner.key }).go({ pages: 'all' });
  return data.map(ruleFromItem).sort((a, b) => a.priority - b.priority || a.ruleId.localeCompare(b.ruleId));
}

const notFound = (ruleId: string) => new NotFoundError(`No routing rule ${ruleId}`);

export async function getRule(owner: Owner, ruleId: string): Promise<RoutingRule> {
  const { data } = await hubDb.routingRule.get({ owner: owner.key, ruleId }).go();
  if (!data) throw notFound(ruleId);
  return ruleFromItem(data);
}

/**
 * Changes a rule. The rule and the models the change names are read together; so a change
 * of model type must restate the targets and fallbacks it applies to.
 */
export async function patchRule(owner: Owner, ruleId: string, changes: Partial<RoutingRuleInput>): Promise<RoutingRule> {
  const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<RoutingRuleInput>;
  const { rule: item, models } = await read(owner, ruleId, namedIn(defined));
  if (!item) throw notFound(ruleId);
  const before = ruleFromItem(item);
  if (defined.modelType && defined.modelType !== before.modelType && (!defined.targets || !defined.fallbacks))
    throw new ValidationError('A new model type needs its targets and fallbacks', [
      { path: defined.targets ? 'fallbacks' : 'targets', message: 'Restate it for the new model type' },
    ]);
  const after: RoutingRule = { ...before, ...defined, updatedBy: owner.actorId };
  // The models the change names (only those: the rule's others were checked when it named them).
  const named = { ...after, targets: defined.targets ?? [], fallbacks: defined.fallbacks ?? [] };
  if (defined.targets || defined.fallbacks || defined.modelType) checkRule(owner, named, models);
  const marks = { custom: customModelsNamed(owner, named), catalogue: catalogueModelsNamed(owner, named) };
  // A global rule given targets or fallbacks may name a model: it moves the counter a retirement conditions on.
  const counted = owner.kind === 'platform' && Boolean(defined.targets || defined.fallbacks);
  // Named here, not stamped by the entity: the rule answered is the one stored, to the millisecond.
  const updatedAt = clock.nowIso();
  const outcome = await transactWrite([
    update(
      hubDb.routingRule
        .patch({ owner: owner.key, ruleId })
        .set({ ...defined, updatedBy: owner.actorId, updatedAt })
        .where(({ updatedAt }, { eq }) => eq(updatedAt, item.updatedAt)),
    ),
    ...(counted ? [countRule(owner, 0)] : []),
    ...marks.custom.map((modelId) => markNamedByRule(owner.key, modelId)),
    ...marks.catalogue.map(catalogueModelLive),
    ...auditWrites(owner, 'routing-rule.updated', { type: 'routing-rule', id: ruleId }, { before, after: defined }),
  ]);
  if (outcome.canceled) {
    if (outcome.reasons[0] === 'ConditionalCheckFailed') throw new ConflictError('The rule changed meanwhile; retry');
    throw refuseGoneModels(owner, named, models, marks, outcome.reasons.slice(counted ? 2 : 1));
  }
  forgetSnapshot(owner.key);
  return { ...after, updatedAt };
}

export async function deleteRule(owner: Owner, ruleId: string): Promise<void> {
  const outcome = await transactWrite([
    remove(hubDb.routingRule.remove({ owner: owner.key, ruleId })),
    update(hubDb.routingRuleCount.update({ owner: owner.key }).add({ rules: -1 })),
    ...auditWrites(owner, 'routing-rule.deleted', { type: 'routing-rule', id: ruleId }),
  ]);
  if (outcome.canceled) throw notFound(ruleId);
  forgetSnapshot(owner.key);
}
