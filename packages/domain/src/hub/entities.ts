import { Service, type EntityItem } from 'electrodb';
import { MODEL_TYPES } from '../gateway/types.ts';
import { clock } from '../shared/clock.ts';
import { Entity, SERVICE, entityConfig, lazy } from '../shared/dynamo.ts';
import { STATUSES, MODEL_KINDS, TASK_TYPES, CAPABILITIES } from './enums.ts';
export { STATUSES, MODEL_KINDS, TASK_TYPES, CAPABILITIES, type Status, type Capability } from './enums.ts';

/**
 * The model hub's entities (DOMAIN.md §3). Everything the router needs about one owner lives
 * in one partition, the `hub` collection keyed by `owner`:
 * - `platform`: the provider catalogue, catalogue models (and their aliases), global routing
 *   rules, the platform's own provider keys;
 * - `org#<orgId>`: the organization's custom models (and their aliases), routing rules and keys;
 * - `user#<userId>`: the user's own keys and favourite models.
 * So one Query loads an owner's whole routing picture (see snapshot.ts), and each list route
 * reads just its entity's slice of the same partition.
 */
const service = SERVICE;
const config = entityConfig;
const hub = <const S extends string[]>(sk: S) => ({
  collection: 'hub' as const,
  pk: { field: 'pk' as const, composite: ['owner'] as ['owner'] },
  sk: { field: 'sk' as const, composite: sk },
});
/**
 * When an item was made and last written, in the domain's time (`clock`). A write that answers the
 * item names its `updatedAt` (and a creation its `createdAt`), so that what it answers is what it
 * stored: a time stamped here instead would be one the write never sees. A write that names none
 * (a last use recorded, a soft delete) gets now.
 */
const timestamps = {
  createdAt: { type: 'string', required: true, readOnly: true, default: () => clock.nowIso() },
  updatedAt: {
    type: 'string',
    required: true,
    watch: '*',
    default: () => clock.nowIso(),
    set: (value?: string) => value ?? clock.nowIso(),
  },
} as const;

/**
 * Providers are few and change rarely: the admin's edits are one item (a map by slug) over
 * the defaults in code, so any read can fetch the whole catalogue by its known key.
 */
const ProviderCatalogueEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'providercatalogue', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          /**
           * slug → provider, as saved by platform admins (see providers.ts). Not `required`, only so
           * that ElectroDB lets one provider be removed from it (a nested REMOVE); it is always there.
           */
          providers: { type: 'any' },
          version: { type: 'number', required: true },
          updatedAt: { type: 'string' },
        },
        indexes: { byOwner: hub([]) },
      },
      config(),
    ),
);

const ModelEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'model', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          modelId: { type: 'string', required: true, readOnly: true },
          kind: { type: MODEL_KINDS, required: true },
          providerSlug: { type: 'string', required: true },
          providerModelId: { type: 'string', required: true },
          name: { type: 'string', required: true },
          description: { type: 'string' },
          version: { type: 'string' },
          type: { type: MODEL_TYPES, required: true },
          taskType: { type: TASK_TYPES },
          capabilities: { type: 'list', items: { type: 'string' }, required: true },
          contextWindow: { type: 'number' },
          maxTokens: { type: 'number' },
          /** temperature, topP, systemPrompt */
          defaults: { type: 'any' },
          /** ModelPricing: micro-USD per million tokens, per image. */
          pricing: { type: 'any', required: true },
          status: { type: STATUSES, required: true },
          tags: { type: 'list', items: { type: 'string' } },
          aliases: { type: 'list', items: { type: 'string' } },
          /**
           * Custom models: how many routing rule writes named this model. Each such write adds 1
           * under the condition that the model exists, and a deletion conditions on the count it
           * read (custom-models.ts), so a rule can never be left naming a deleted model. Bookkeeping
           * only: never part of the model as shown.
           */
          ruleWrites: { type: 'number' },
          createdBy: { type: 'string' },
          updatedBy: { type: 'string' },
          ...timestamps,
        },
        indexes: { byOwner: hub(['modelId']) },
      },
      config(),
    ),
);

/**
 * One item per alias of a custom model, or of a catalogue model (owner `platform`): a conditional
 * put makes an alias unique in its organization, or in the catalogue.
 */
const ModelAliasEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'modelalias', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          alias: { type: 'string', required: true, readOnly: true },
          modelId: { type: 'string', required: true },
        },
        indexes: { byOwner: hub(['alias']) },
      },
      config(),
    ),
);

const RoutingRuleEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'routingrule', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          ruleId: { type: 'string', required: true, readOnly: true },
          name: { type: 'string', required: true },
          description: { type: 'string' },
          /** 1 is tried first. */
          priority: { type: 'number', required: true },
          modelType: { type: MODEL_TYPES, required: true },
          /** RuleConditions (schemas/routing-rules.ts). */
          conditions: { type: 'any', required: true },
          /** [{ modelId, weight, notes?, tags? }] */
          targets: { type: 'any', required: true },
          fallbacks: { type: 'list', items: { type: 'string' } },
          isActive: { type: 'boolean', required: true, default: true },
          createdBy: { type: 'string', required: true },
          updatedBy: { type: 'string' },
          ...timestamps,
        },
        indexes: { byOwner: hub(['ruleId']) },
      },
      config(),
    ),
);

const ProviderCredentialEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'providercredential', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          credentialId: { type: 'string', required: true, readOnly: true },
          providerSlug: { type: 'string', required: true, readOnly: true },
          label: { type: 'string', required: true },
          /** Envelope-encrypted (shared/secrets.ts), context = owner + credential id. Never leaves the domain. */
          keyCipher: { type: 'string' },
          keyLast4: { type: 'string' },
          baseUrl: { type: 'string' },
          defaultModel: { type: 'string' },
          /** Validated against the provider's configSchema on every save. */
          config: { type: 'any' },
          isActive: { type: 'boolean', required: true, default: true },
          /** Provider calls per UTC day / calendar month through this key (counted in billing's counters). */
          dailyQuota: { type: 'number' },
          monthlyQuota: { type: 'number' },
          lastUsedAt: { type: 'string' },
          /** The last test (credentials.ts `CredentialTest`): { ok, responseTimeMs, testedAt, model, operation, error? } */
          lastTest: { type: 'any' },
          createdBy: { type: 'string', required: true },
          ...timestamps,
        },
        indexes: { byOwner: hub(['credentialId']) },
      },
      config(),
    ),
);

/**
 * Per owner, how many routing rules it has: each creation adds one under the condition that the
 * cap is not reached, each deletion takes one off, in the same transaction as the rule's write.
 * Outside the `hub` collection: the router has no use for it.
 */
const RoutingRuleCountEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'routingrulecount', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          rules: { type: 'number' },
        },
        indexes: { byOwner: { pk: { field: 'pk', composite: ['owner'] }, sk: { field: 'sk', composite: [] } } },
      },
      config(),
    ),
);

/** Per owner, provider slug → its default credential: one item, so one default per provider always. */
const CredentialDefaultsEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'credentialdefaults', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          defaults: { type: 'any', required: true },
          version: { type: 'number', required: true },
        },
        indexes: { byOwner: hub([]) },
      },
      config(),
    ),
);

/**
 * The owner's end: an organization or a user deleted. Written by the deletion's own transaction
 * into the owner's hub partition, so the snapshot's one query sees it with the rest: a deleted
 * owner's keys are then withdrawn from every call, routed or in flight (snapshot.ts), as a key
 * deleted is, without the gateway reading the organization or the account on each attempt.
 */
const HubOwnerEndEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'hubownerend', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          deletedAt: { type: 'string', required: true },
        },
        indexes: { byOwner: hub([]) },
      },
      config(),
    ),
);

const FavoriteModelEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'favoritemodel', version: '1', service },
        attributes: {
          owner: { type: 'string', required: true, readOnly: true },
          modelId: { type: 'string', required: true, readOnly: true },
          /** The organization of a custom model. */
          orgId: { type: 'string' },
          createdAt: { type: 'string', required: true, readOnly: true, default: () => new Date().toISOString() },
        },
        indexes: { byOwner: hub(['modelId']) },
      },
      config(),
    ),
);

/** Platform-wide agent configuration (seed 004 ADMIN_CONFIG); all keys in one partition. */
const AdminConfigEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'adminconfig', version: '1', service },
        attributes: {
          configKey: { type: 'string', required: true, readOnly: true },
          data: { type: 'any', required: true },
          version: { type: 'number', required: true },
          updatedBy: { type: 'string', required: true },
          ...timestamps,
        },
        indexes: { byKey: { pk: { field: 'pk', composite: [] }, sk: { field: 'sk', composite: ['configKey'] } } },
      },
      config(),
    ),
);

export const hubDb = {
  get providerCatalogue() {
    return ProviderCatalogueEntity();
  },
  get model() {
    return ModelEntity();
  },
  get modelAlias() {
    return ModelAliasEntity();
  },
  get routingRule() {
    return RoutingRuleEntity();
  },
  get routingRuleCount() {
    return RoutingRuleCountEntity();
  },
  get credential() {
    return ProviderCredentialEntity();
  },
  get credentialDefaults() {
    return CredentialDefaultsEntity();
  },
  get ownerEnd() {
    return HubOwnerEndEntity();
  },
  get favorite() {
    return FavoriteModelEntity();
  },
  get adminConfig() {
    return AdminConfigEntity();
  },
};

/** The entities an owner's routing picture is made of, read together by one collection query. */
export const hubService = lazy(
  () =>
    new Service(
      {
        providerCatalogue: hubDb.providerCatalogue,
        model: hubDb.model,
        routingRule: hubDb.routingRule,
        credential: hubDb.credential,
        credentialDefaults: hubDb.credentialDefaults,
        ownerEnd: hubDb.ownerEnd,
      },
      config(),
    ),
);

export type ModelItem = EntityItem<ReturnType<typeof ModelEntity>>;
export type RoutingRuleItem = EntityItem<ReturnType<typeof RoutingRuleEntity>>;
export type CredentialItem = EntityItem<ReturnType<typeof ProviderCredentialEntity>>;
export type FavoriteItem = EntityItem<ReturnType<typeof FavoriteModelEntity>>;
export type AdminConfigItem = EntityItem<ReturnType<typeof AdminConfigEntity>>;
