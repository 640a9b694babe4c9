import { createHash } from 'node:crypto';
import { countUse, type CountedLimit } from '../billing/limits.ts';
import { accountGone, accountRead, isAccountDeleted } from '../identity/access.ts';
import type { User } from '../identity/entities.ts';
import type { GatewayOperation, ProviderErrorKind, Target } from '../gateway/types.ts';
import { clock } from '../shared/clock.ts';
import {
  ConflictError,
  NotFoundError,
  TooManyRequestsError,
  UnprocessableError,
  ValidationError,
  type FieldError,
} from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { validateJson } from '../shared/json-schema.ts';
import { canonicalJson } from '../shared/json-value.ts';
import { redactSecret } from '../shared/redact.ts';
import { decryptSecret, encryptSecret } from '../shared/secrets.ts';
import {
  put,
  remove,
  returningOnFailure,
  transactGet,
  transactWrite,
  update,
  type WriteItem,
  type WriteOutcome,
} from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';
import type { Model } from './default-models.ts';
import type { Provider } from './default-providers.ts';
import { hubDb, type CredentialItem } from './entities.ts';
import { auditWrites, PLATFORM, type Owner } from './owners.ts';
import { cachedSnapshot, forgetSnapshot, mergeProviders } from './snapshot.ts';

/**
 * Provider credentials, bring-your-own-key (DOMAIN.md §3, ProviderCredential): an
 * organization's, a user's, or the platform's own keys for providers that take one.
 *
 * - The key is envelope-encrypted (shared/secrets.ts: KMS on AWS, a local master key in dev)
 *   with an encryption context naming the owner and the credential, so a stored blob copied
 *   to another owner's row cannot be decrypted. It is never returned (only its last four
 *   characters), never logged, and decrypted only to make a call.
 * - `config` is validated against the provider's JSON Schema on every save.
 * - One default per owner and provider: an item per owner maps provider → credential, changed
 *   in the same transaction as the credential, one provider's slot at a time and only if that
 *   slot is as read (`defaultWrite`).
 * - Quotas count provider calls (requests) per UTC day and calendar month through the key,
 *   in billing's limit counters: one conditional write per call (`consumeCredentialQuota`).
 */
export interface CredentialInput {
  label: string;
  providerSlug: string;
  key?: string;
  baseUrl?: string;
  defaultModel?: string;
  config?: Record<string, unknown>;
  isDefault?: boolean;
  isActive?: boolean;
  dailyQuota?: number;
  monthlyQuota?: number;
}

/** PATCH: `null` clears an optional field. */
export type CredentialChanges = Partial<
  Omit<CredentialInput, 'providerSlug' | 'baseUrl' | 'defaultModel' | 'dailyQuota' | 'monthlyQuota'>
> & {
  baseUrl?: string | null;
  defaultModel?: string | null;
  dailyQuota?: number | null;
  monthlyQuota?: number | null;
};

/** What a test call hit at the provider, classified like any provider failure; the message never holds the key. */
export interface CredentialTestError {
  type: ProviderErrorKind;
  message: string;
  /** The provider's HTTP status, when it answered with one. */
  status?: number;
}

/** The outcome of testing a credential (seed 000 provider_test_results), kept on it as `lastTest`. */
export interface CredentialTest {
  ok: boolean;
  responseTimeMs: number;
  testedAt: string;
  /** The provider's model id the test called. */
  model: string;
  /** The kind of call: a one-token chat completion, or for a model that only embeds or draws, one embedding or one image. */
  operation: GatewayOperation;
  error?: CredentialTestError;
}

const encryptionContext = (owner: string, credentialId: string) => ({ purpose: 'provider-credential', owner, credentialId });
const last4 = (key: string) => key.slice(-4);
const notFound = (credentialId: string) => new NotFoundError(`No provider credential ${credentialId}`);

export function credentialView(item: CredentialItem, defaults: Record<string, string>) {
  const { owner, keyCipher, ...rest } = item;
  return {
    ...rest,
    ownerType: owner === PLATFORM ? ('platform' as const) : owner.startsWith('org#') ? ('org' as const) : ('user' as const),
    ...(owner.startsWith('org#') ? { orgId: owner.slice(4) } : owner.startsWith('user#') ? { userId: owner.slice(5) } : {}),
    hasKey: Boolean(keyCipher),
    isDefault: defaults[item.providerSlug] === item.credentialId,
  };
}
export type CredentialView = ReturnType<typeof credentialView>;

interface Defaults {
  defaults: Record<string, string>;
  version?: number;
}

const defaultsOf = (item: { defaults?: unknown; version?: number } | null): Defaults => ({
  defaults: { ...((item?.defaults ?? {}) as Record<string, string>) },
  version: item?.version,
});

/**
 * Adapters that call no one and so take no key: one stored there would be a secret kept for
 * nothing, and looks like an own key that it is not (the call runs on the platform's process).
 */
const IGNORES_KEYS: ReadonlySet<Provider['adapter']> = new Set(['local']);

/**
 * A provider's rules for a credential: an active provider for a new one, the key and base URL
 * it requires (and no key where its adapter takes none, as one is saved), and the config its
 * JSON Schema accepts, checked whenever the config is saved (a change of the schema applies to
 * a credential's config from its next save).
 */
function checkAgainstProvider(
  provider: Provider,
  value: { hasKey: boolean; baseUrl?: string; config?: unknown },
  check: { creating: boolean; config: boolean; key: boolean },
) {
  const errors: FieldError[] = [];
  if (check.creating && provider.status === 'Inactive')
    errors.push({ path: 'providerSlug', message: `The provider ${provider.slug} is inactive` });
  if (provider.requiresApiKey && !value.hasKey) errors.push({ path: 'key', message: `${provider.displayName} needs an API key` });
  if (check.key && value.hasKey && IGNORES_KEYS.has(provider.adapter))
    errors.push({ path: 'key', message: `${provider.displayName} takes no API key` });
  if (provider.requiresBaseUrl && !value.baseUrl)
    errors.push({ path: 'baseUrl', message: `${provider.displayName} needs a base URL` });
  if (check.config) errors.push(...validateJson(provider.configSchema, value.config ?? {}, 'config'));
  if (errors.length) throw new ValidationError(`The credential does not fit the provider ${provider.slug}`, errors);
}

function providerOf(catalogue: { providers?: unknown } | null, slug: string): Provider {
  const provider = mergeProviders(catalogue?.providers).get(slug);
  if (!provider) throw new NotFoundError(`No provider ${slug}`, [{ path: 'providerSlug', message: 'Unknown provider' }]);
  return provider;
}

/**
 * The provider of an existing credential, for what needs it live (a new key, config or base
 * URL, a test call). A provider an admin removed or deactivated is a 422: its credentials
 * stay readable, and can still be relabelled, deactivated, re-quota'd or deleted.
 */
function liveProviderOf(catalogue: { providers?: unknown } | null, slug: string, path: string): Provider {
  const provider = mergeProviders(catalogue?.providers).get(slug);
  if (!provider || provider.status === 'Inactive')
    throw new UnprocessableError(
      `The provider ${slug} was ${provider ? 'retired' : 'removed'} by a platform admin: this credential can only be relabelled, deactivated, given quotas or deleted`,
      [{ path, message: `Provider ${slug} ${provider ? 'retired' : 'removed'}` }],
    );
  return provider;
}

/** What a patch may change on a credential whose provider is gone: nothing that needs the provider. */
const NEEDS_PROVIDER = ['key', 'baseUrl', 'config'] as const;

/** What creating a credential reads first: the provider catalogue and the owner's defaults. */
type CreationRead = [{ providers?: unknown } | null, { defaults?: unknown; version?: number } | null];

/**
 * The reads of `createCredential`, for a route to make with its authorization in one request
 * (`httpHandler`'s `preload`); `creationRead` takes them back from `access.preloaded`.
 */
export const creationReads = (ownerKey: string) => [
  { op: hubDb.providerCatalogue.get({ owner: PLATFORM }), entity: hubDb.providerCatalogue },
  { op: hubDb.credentialDefaults.get({ owner: ownerKey }), entity: hubDb.credentialDefaults },
];
export const creationRead = (preloaded?: readonly unknown[]): CreationRead | undefined =>
  preloaded?.length === 2 ? (preloaded as CreationRead) : undefined;

/**
 * The write that makes `credentialId` the owner's default for `slug` (undefined: no credential
 * is), from the defaults as read, and only if the slot is still as read: free, or held by the
 * credential read there. So of concurrent creations told to be the default, the first to write
 * takes the slot and the others fail their condition instead of silently taking it over (which
 * would leave the first answering "default" wrongly); a change or deletion of a credential
 * never undoes another's new default. It changes the one slot (not the whole map), so changes
 * of different providers' defaults never race, and moves the version on (the routing snapshot
 * follows it); a failed condition answers the item as it is then, so a lost race is decided
 * without reading it again.
 */
function defaultWrite(owner: string, before: Defaults, slug: string, credentialId: string | undefined): WriteItem {
  if (before.version === undefined)
    return returningOnFailure(
      put(hubDb.credentialDefaults.create({ owner, defaults: credentialId ? { [slug]: credentialId } : {}, version: 1 })),
    );
  const { Key, TableName } = hubDb.credentialDefaults.get({ owner }).params() as Record<string, unknown>;
  const held = before.defaults[slug];
  const params = {
    TableName,
    Key,
    UpdateExpression: credentialId ? 'SET #defaults.#slug = :id ADD #version :one' : 'REMOVE #defaults.#slug ADD #version :one',
    ConditionExpression: held
      ? 'attribute_exists(#version) AND #defaults.#slug = :held'
      : 'attribute_exists(#version) AND attribute_not_exists(#defaults.#slug)',
    ExpressionAttributeNames: { '#defaults': 'defaults', '#slug': slug, '#version': 'version' },
    ExpressionAttributeValues: {
      ':one': 1,
      ...(credentialId ? { ':id': credentialId } : {}),
      ...(held ? { ':held': held } : {}),
    },
  };
  return returningOnFailure(update({ params: () => params }));
}

/** A lost race for the default slot is decided again from the item that failed; beyond that, 409. */
const CREATE_ATTEMPTS = 3;

/**
 * Creates a credential; the first one of an owner for a provider becomes its default unless
 * told otherwise. Reads once (or not at all, given what the route read with its
 * authorization) and writes once. Concurrent creations never re-read: a creation whose
 * default-slot condition fails learns the defaults from that failure and writes again: as
 * not the default when another credential took the slot meanwhile (even when told to be the
 * default: the other one was answered "default" first), or taking the slot if it is still as
 * read (only the item was created meanwhile); so concurrent additions all land, each answers
 * (and audits) whether it is the default, and one is.
 */
export async function createCredential(owner: Owner, input: CredentialInput, read?: CreationRead): Promise<CredentialView> {
  const credentialId = newId('pcr');
  const keyCipher = input.key ? await encryptSecret(input.key, encryptionContext(owner.key, credentialId)) : undefined;
  const [catalogue, defaultsItem] = read ?? (await transactGet<CreationRead>(creationReads(owner.key) as never));
  const provider = providerOf(catalogue, input.providerSlug);
  checkAgainstProvider(
    provider,
    { hasKey: Boolean(input.key), baseUrl: input.baseUrl, config: input.config },
    { creating: true, config: true, key: true },
  );
  const now = clock.nowIso();
  const item: CredentialItem = {
    owner: owner.key,
    credentialId,
    providerSlug: input.providerSlug,
    label: input.label,
    keyCipher,
    keyLast4: input.key ? last4(input.key) : undefined,
    baseUrl: input.baseUrl,
    defaultModel: input.defaultModel,
    config: input.config,
    isActive: input.isActive ?? true,
    dailyQuota: input.dailyQuota,
    monthlyQuota: input.monthlyQuota,
    createdBy: owner.actorId,
    createdAt: now,
    updatedAt: now,
  };
  const slug = input.providerSlug;
  let before = defaultsOf(defaultsItem);
  let wantsDefault = input.isDefault;
  for (let attempt = 1; ; attempt++) {
    const isDefault = wantsDefault ?? !before.defaults[slug];
    const slotWrite = isDefault ? defaultWrite(owner.key, before, slug, credentialId) : undefined;
    const outcome = await transactWrite([
      ...(slotWrite ? [slotWrite] : []),
      put(hubDb.credential.create(item)),
      ...auditWrites(
        owner,
        'provider-credential.created',
        { type: 'provider-credential', id: credentialId },
        { providerSlug: slug, label: input.label, isDefault },
      ),
    ]);
    if (!outcome.canceled) {
      forgetSnapshot(owner.key);
      const defaults = isDefault ? { ...before.defaults, [slug]: credentialId } : before.defaults;
      return credentialView(item, defaults);
    }
    // Only the slot's condition can fail (the credential and its audit row are new items).
    if (!slotWrite || outcome.reasons[0] !== 'ConditionalCheckFailed' || attempt >= CREATE_ATTEMPTS)
      throw new ConflictError('The default credentials changed meanwhile; retry');
    const current = outcome.items[0];
    const now = defaultsOf(current ? hubDb.credentialDefaults.parse({ Item: current }).data : null);
    if (now.defaults[slug] && now.defaults[slug] !== before.defaults[slug]) wantsDefault = false;
    before = now;
  }
}

export async function listCredentials(owner: Owner, options: { cursor?: string; limit?: number; providerSlug?: string }) {
  const query = hubDb.credential.query
    .byOwner({ owner: owner.key })
    .where((attr, { eq }) => (options.providerSlug ? eq(attr.providerSlug, options.providerSlug) : ''));
  const [page, defaultsItem] = await Promise.all([
    pageOf(query, { cursor: options.cursor, limit: options.limit ?? 50, order: 'asc' }),
    hubDb.credentialDefaults.get({ owner: owner.key }).go(),
  ]);
  const { defaults } = defaultsOf(defaultsItem.data);
  return { items: page.data.map((item) => credentialView(item, defaults)), nextCursor: page.cursor };
}

/**
 * A credential with its owner's defaults and the catalogue, in one read. A user's own keys and the
 * platform's are reached by a user's token, which outlives the deletion of their account: their
 * profile is read in the same request and a deleted account refused (the routes say
 * `refusesDeletedAccount`). An organization's were authorized through a membership already.
 */
type CredentialRead = [CredentialItem | null, { defaults?: unknown; version?: number } | null, { providers?: unknown } | null];

/**
 * What reading an organization's credential reads: the credential, the owner's defaults and the
 * provider catalogue. A route can make these reads with its authorization, in one request
 * (`httpHandler`'s `preload`), and hand them over from `access.preloaded`.
 */
export const credentialReads = (ownerKey: string, credentialId: string) => [
  { op: hubDb.credential.get({ owner: ownerKey, credentialId }), entity: hubDb.credential },
  { op: hubDb.credentialDefaults.get({ owner: ownerKey }), entity: hubDb.credentialDefaults },
  { op: hubDb.providerCatalogue.get({ owner: PLATFORM }), entity: hubDb.providerCatalogue },
];

async function readCredential(owner: Owner, credentialId: string, preloaded?: readonly unknown[]) {
  const byUser = owner.kind !== 'org';
  const [item, defaultsItem, catalogue, account] =
    !byUser && preloaded?.length === 3
      ? (preloaded as CredentialRead)
      : ((await transactGet<unknown[]>([
          ...credentialReads(owner.key, credentialId),
          ...(byUser ? [accountRead(owner.actorId)] : []),
        ])) as [...CredentialRead, User | null]);
  if (byUser && isAccountDeleted(account)) throw accountGone();
  if (!item) throw notFound(credentialId);
  return { item, defaults: defaultsOf(defaultsItem), catalogue };
}

export async function getCredential(owner: Owner, credentialId: string): Promise<CredentialView> {
  const { item, defaults } = await readCredential(owner, credentialId);
  return credentialView(item, defaults.defaults);
}

/**
 * Changes a credential: a new key is encrypted afresh (the key it holds already, sent again by a
 * form that always sends it, is kept as stored: calls under way through it go on, as nothing
 * they send changed); the result must still fit its provider.
 */
export async function patchCredential(owner: Owner, credentialId: string, changes: CredentialChanges): Promise<CredentialView> {
  const { item, defaults: before, catalogue } = await readCredential(owner, credentialId);
  const needed = NEEDS_PROVIDER.find((k) => changes[k] !== undefined);
  const provider = needed
    ? liveProviderOf(catalogue, item.providerSlug, needed)
    : mergeProviders(catalogue?.providers).get(item.providerSlug);
  const cleared = (['baseUrl', 'defaultModel', 'dailyQuota', 'monthlyQuota'] as const).filter((k) => changes[k] === null);
  // Named here, not stamped by the entity: the credential answered is the one stored, to the millisecond.
  const set: Partial<CredentialItem> = { updatedAt: clock.nowIso() };
  for (const k of ['label', 'baseUrl', 'defaultModel', 'config', 'isActive', 'dailyQuota', 'monthlyQuota'] as const)
    if (changes[k] !== undefined && changes[k] !== null) Object.assign(set, { [k]: changes[k] });
  if (changes.key && !(item.keyCipher && (await decryptedKey(item)) === changes.key)) {
    set.keyCipher = await encryptSecret(changes.key, encryptionContext(owner.key, credentialId));
    set.keyLast4 = last4(changes.key);
  }
  const after = { ...item, ...set } as CredentialItem;
  for (const k of cleared) delete after[k];
  if (provider)
    checkAgainstProvider(
      provider,
      { hasKey: Boolean(after.keyCipher), baseUrl: after.baseUrl, config: after.config },
      { creating: false, config: changes.config !== undefined, key: Boolean(changes.key) },
    );

  const slug = item.providerSlug;
  const defaults = { ...before.defaults };
  if (changes.isDefault === true) defaults[slug] = credentialId;
  if (changes.isDefault === false && defaults[slug] === credentialId) delete defaults[slug];
  const defaultsChanged = defaults[slug] !== before.defaults[slug];

  const patch = hubDb.credential.patch({ owner: owner.key, credentialId }).set(set);
  const outcome = await transactWrite([
    returningOnFailure(
      update(
        (cleared.length ? patch.remove([...cleared]) : patch).where(({ updatedAt }, { eq }) => eq(updatedAt, item.updatedAt)),
      ),
    ),
    ...(defaultsChanged ? [defaultWrite(owner.key, before, slug, defaults[slug])] : []),
    ...auditWrites(
      owner,
      'provider-credential.updated',
      { type: 'provider-credential', id: credentialId },
      // What changed, never the key itself.
      {
        changed: [
          ...Object.keys(set).filter((k) => !['keyCipher', 'keyLast4', 'updatedAt'].includes(k)),
          ...(changes.key ? ['key'] : []),
          ...cleared,
          ...(defaultsChanged ? ['isDefault'] : []),
        ],
      },
    ),
  ]);
  if (outcome.canceled) throw lostRace(outcome, credentialId, 'The credential changed meanwhile; retry');
  forgetSnapshot(owner.key);
  forgetDecrypted(credentialId);
  return credentialView(after, defaults);
}

/** Why a write of a credential as read failed: it is gone (deleted meanwhile), 404; else it or the defaults changed, 409. */
function lostRace(outcome: WriteOutcome, credentialId: string, conflict: string) {
  return outcome.reasons[0] === 'ConditionalCheckFailed' && !outcome.items[0]
    ? notFound(credentialId)
    : new ConflictError(conflict);
}

/**
 * Deletes a credential as read: only if it has not changed since (its `updatedAt`), like a
 * change. A change racing the deletion cannot be lost under it: made the default meanwhile, the
 * key deleted unconditionally would leave the defaults naming a key that is gone (so no later key
 * of the provider would become the default); the deletion is a 409 instead, and its retry reads
 * the change. A key already gone is a 404: of two deletions at once one deletes (and audits it),
 * the other answers 404.
 */
export async function deleteCredential(owner: Owner, credentialId: string): Promise<void> {
  const { item, defaults: before } = await readCredential(owner, credentialId);
  const wasDefault = before.defaults[item.providerSlug] === credentialId;
  const outcome = await transactWrite([
    returningOnFailure(
      remove(
        hubDb.credential
          .delete({ owner: owner.key, credentialId })
          .where(({ updatedAt }, { eq }) => eq(updatedAt, item.updatedAt)),
      ),
    ),
    ...(wasDefault ? [defaultWrite(owner.key, before, item.providerSlug, undefined)] : []),
    ...auditWrites(
      owner,
      'provider-credential.deleted',
      { type: 'provider-credential', id: credentialId },
      { providerSlug: item.providerSlug, label: item.label },
    ),
  ]);
  if (outcome.canceled)
    throw lostRace(outcome, credentialId, 'The credential or the default credentials changed meanwhile; retry');
  forgetSnapshot(owner.key);
  forgetDecrypted(credentialId);
}

// --- Using a credential: decryption, quotas, tests -------------------------------------------

export const DECRYPTED_TTL_MS = 60_000;
const decrypted = new Map<string, { key: string; version: string; at: number }>();

function forgetDecrypted(credentialId: string) {
  decrypted.delete(credentialId);
}

/**
 * The clear key of a credential, for one call. Decrypted keys are kept in memory for
 * `DECRYPTED_TTL_MS` (keyed by the credential's last change, so a rotated key is never
 * served stale), sparing KMS a request per call.
 */
export async function decryptedKey(item: CredentialItem): Promise<string | undefined> {
  if (!item.keyCipher) return undefined;
  const hit = decrypted.get(item.credentialId);
  if (hit && hit.version === item.updatedAt && Date.now() - hit.at < DECRYPTED_TTL_MS) return hit.key;
  const key = await decryptSecret(item.keyCipher, encryptionContext(item.owner, item.credentialId));
  if (decrypted.size >= 10_000) decrypted.clear();
  decrypted.set(item.credentialId, { key, version: item.updatedAt, at: Date.now() });
  return key;
}

/** Where a call goes with this credential: the adapter, the key, the base URL and config. */
export async function credentialTarget(item: CredentialItem, provider: Provider, providerModelId: string): Promise<Target> {
  const target: Target = { adapter: provider.adapter, providerSlug: provider.slug, providerModelId };
  const apiKey = await decryptedKey(item);
  if (apiKey) target.apiKey = apiKey;
  const baseUrl = item.baseUrl ?? provider.defaultBaseUrl;
  if (baseUrl) target.baseUrl = baseUrl;
  if (item.config && Object.keys(item.config as object).length) target.config = item.config as Record<string, unknown>;
  remember(item);
  return target;
}

const versions = new WeakMap<CredentialItem, string>();

/**
 * What a call through the credential sends, and where: its key (as stored, encrypted afresh on
 * each change), base URL and config, digested. Not its `updatedAt`: recording a key's last use
 * moves that once a minute, and neither a cooldown nor a call in flight may take that for a new
 * key. Kept per item of a snapshot, so the hot path digests each item once.
 */
export function credentialVersion(item: CredentialItem): string {
  let version = versions.get(item);
  if (version === undefined) {
    const sent = canonicalJson([item.keyCipher ?? '', item.baseUrl ?? '', item.config ?? {}]);
    version = createHash('sha256').update(sent).digest('base64url').slice(0, 16);
    versions.set(item, version);
  }
  return version;
}

/**
 * Why the credential a call was routed through may no longer be sent, if it may not: its owner
 * deleted or deactivated it, or changed what a call sends (`credentialVersion`: a rotated key,
 * say) since. Asked before each attempt, as a call can run for minutes of retries and
 * fallbacks: from the owner's snapshot, in memory in steady state (no request), so a change
 * made in this process is seen at once and one made through another instance within the
 * snapshot's TTL, as routing sees them.
 */
export async function credentialWithdrawn(candidate: {
  credentialId?: string;
  credentialOwner?: string;
  credentialVersion?: string;
}): Promise<'deleted' | 'deactivated' | 'changed' | undefined> {
  const { credentialId, credentialOwner, credentialVersion: routed } = candidate;
  if (!credentialId || !credentialOwner) return undefined;
  const item = (await cachedSnapshot(credentialOwner)).credentials.find((c) => c.credentialId === credentialId);
  if (!item) return 'deleted';
  if (!item.isActive) return 'deactivated';
  if (routed !== undefined && credentialVersion(item) !== routed) return 'changed';
  return undefined;
}

const TEST_OPERATIONS: GatewayOperation[] = ['chat', 'embeddings', 'images'];
/** What one minimal call of a model costs, roughly: its two token prices and its image price. */
const callPrice = (m: Model) => m.pricing.inputPerMTokMicros + m.pricing.outputPerMTokMicros + (m.pricing.perImageMicros ?? 0);

/**
 * The model and kind of call that test a key of this provider at the least cost: the credential's
 * `defaultModel` (a chat, unless the catalogue knows it as a model that only embeds or only draws),
 * else the provider's cheapest active model of the catalogue (as platform admins edited it) that
 * chats, else that embeds, else that draws.
 */
export function modelToTest(
  catalogue: readonly Model[],
  providerSlug: string,
  defaultModel?: string,
): { model: string; operation: GatewayOperation } | undefined {
  const models = catalogue.filter((m) => m.providerSlug === providerSlug && m.status !== 'Inactive');
  if (defaultModel) {
    const known = models.find((m) => m.providerModelId === defaultModel);
    return { model: defaultModel, operation: (known && TEST_OPERATIONS.find((op) => known.capabilities.includes(op))) ?? 'chat' };
  }
  for (const operation of TEST_OPERATIONS) {
    const cheapest = models.filter((m) => m.capabilities.includes(operation)).sort((a, b) => callPrice(a) - callPrice(b))[0];
    if (cheapest) return { model: cheapest.providerModelId, operation };
  }
  return undefined;
}

/**
 * A credential ready for a call outside routing (the `.../test` route): its view, its provider,
 * the kind of call and a target for the model to test (`modelToTest`). One read; the key is
 * decrypted. A credential with no model to call (no default model, none in the catalogue) is a 422.
 */
export async function getCredentialForCall(owner: Owner, credentialId: string, preloaded?: readonly unknown[]) {
  const [{ item, defaults, catalogue }, platform] = await Promise.all([
    readCredential(owner, credentialId, preloaded),
    cachedSnapshot(PLATFORM),
  ]);
  const provider = liveProviderOf(catalogue, item.providerSlug, 'providerSlug');
  const chosen = modelToTest(platform.models, provider.slug, item.defaultModel);
  if (!chosen)
    throw new UnprocessableError(
      `The catalogue has no model of ${provider.slug} to test this key with: set the credential's defaultModel`,
      [{ path: 'defaultModel', message: 'Needed to test this key' }],
    );
  return {
    credential: credentialView(item, defaults.defaults),
    provider,
    operation: chosen.operation,
    target: await credentialTarget(item, provider, chosen.model),
  };
}

const MAX_ERROR = 500;
/** The key, in each of its spellings, and long token-like runs (keys, bearer tokens) are cut out of provider error messages before storing them. */
const scrub = (message: string, key?: string) =>
  redactSecret(message, key)
    .replace(/[A-Za-z0-9_\-+/=%]{32,}/g, '[redacted]')
    .slice(0, MAX_ERROR);

/**
 * Stores the outcome of testing a credential (seed 000 provider_test_results) as its `lastTest`,
 * with the key scrubbed from the error, and audits it like the credential's other changes
 * (`provider-credential.tested`): one transaction. A success is also the key's last use.
 */
export async function recordCredentialTest(
  owner: Owner,
  credentialId: string,
  result: Omit<CredentialTest, 'testedAt'>,
): Promise<CredentialTest> {
  const key = decrypted.get(credentialId)?.key;
  const lastTest: CredentialTest = {
    ok: result.ok,
    responseTimeMs: Math.max(0, Math.round(result.responseTimeMs)),
    testedAt: new Date().toISOString(),
    model: result.model,
    operation: result.operation,
    ...(result.error
      ? {
          error: {
            type: result.error.type,
            message: scrub(result.error.message, key),
            ...(result.error.status ? { status: result.error.status } : {}),
          },
        }
      : {}),
  };
  const outcome = await transactWrite([
    update(
      hubDb.credential
        .patch({ owner: owner.key, credentialId })
        .set({ lastTest, ...(result.ok ? { lastUsedAt: lastTest.testedAt } : {}) }),
    ),
    ...auditWrites(
      owner,
      'provider-credential.tested',
      { type: 'provider-credential', id: credentialId },
      {
        ok: lastTest.ok,
        model: lastTest.model,
        operation: lastTest.operation,
        ...(lastTest.error ? { errorType: lastTest.error.type } : {}),
      },
    ),
  ]);
  if (outcome.canceled) throw notFound(credentialId);
  forgetSnapshot(owner.key);
  return lastTest;
}

/** A quota found spent: the refusal, and the window it stands for. */
interface Spent {
  message: string;
  headers: Record<string, string>;
  from: number;
  until: number;
}

/**
 * Credentials this process has routed through: their owner, quotas, last recorded use and a
 * quota found spent. At its bound the least recently routed one goes, never one a call was just
 * routed through (a call counts its key's use right after routing: clearing the map there
 * failed the call).
 */
const inUse = new Map<
  string,
  { owner: string; dailyQuota?: number; monthlyQuota?: number; lastUsedAt?: string; spent?: Spent }
>();
const IN_USE_MAX = 10_000;
function remember(item: CredentialItem) {
  const known = inUse.get(item.credentialId);
  inUse.delete(item.credentialId); // set again below, as the most recent
  if (inUse.size >= IN_USE_MAX) inUse.delete(inUse.keys().next().value!);
  inUse.set(item.credentialId, {
    owner: item.owner,
    dailyQuota: item.dailyQuota,
    monthlyQuota: item.monthlyQuota,
    lastUsedAt: [known?.lastUsedAt, item.lastUsedAt].filter(Boolean).sort().at(-1),
    // A spent quota stays spent to its window's end (its counter only grows), unless it changed.
    ...(known?.spent && known.dailyQuota === item.dailyQuota && known.monthlyQuota === item.monthlyQuota
      ? { spent: known.spent }
      : {}),
  });
}

/** The refusal of a quota found spent, told again with the time left in its window. */
function stillSpent(spent: Spent, now: Date): TooManyRequestsError {
  const error = new TooManyRequestsError(spent.message, Math.max(1, Math.ceil((spent.until - now.getTime()) / 1000)));
  Object.assign(error.headers, spent.headers, { 'retry-after': error.headers['retry-after'] });
  return error;
}

export const QUOTA_RESOURCE = 'provider-calls';
const LAST_USED_GRANULARITY_MS = 60_000;

/**
 * Counts one provider call against the quotas of the candidate's credential, an own key or one
 * of the platform's (the gateway calls it just before calling the provider): one conditional
 * write for both windows, none when the key has no quota, or a 429 with Retry-After when a
 * quota is used up. A call with no credential (Bedrock on the platform's IAM role with no
 * platform credential, say) has nothing to count. A spent quota is refused from memory to the
 * end of its window, or until the quota changes: a spent key (no failure of its provider's, so
 * no cooldown skips it) costs no write a call. The last use is recorded at most once a minute.
 */
export async function consumeCredentialQuota(candidate: { credentialId?: string }, now = new Date()): Promise<void> {
  const credentialId = candidate.credentialId;
  if (!credentialId) return;
  const known = inUse.get(credentialId);
  if (!known) throw new Error(`Credential ${credentialId} was not routed through by this process`);
  const limits: CountedLimit[] = [];
  const subject = `credential#${credentialId}`;
  if (known.dailyQuota !== undefined)
    limits.push({ subject, resource: QUOTA_RESOURCE, window: 'daily', limit: known.dailyQuota });
  if (known.monthlyQuota !== undefined)
    limits.push({ subject, resource: QUOTA_RESOURCE, window: 'monthly', limit: known.monthlyQuota });
  const at = now.getTime();
  if (known.spent && at >= known.spent.from && at < known.spent.until) throw stillSpent(known.spent, now);
  try {
    await countUse(limits, now);
    delete known.spent;
  } catch (error) {
    if (error instanceof TooManyRequestsError) {
      const reset = Number(error.headers['x-ratelimit-reset']) * 1000;
      const until = Number.isFinite(reset) && reset > at ? reset : at + Number(error.headers['retry-after'] ?? 1) * 1000;
      known.spent = { message: error.message, headers: { ...error.headers }, from: at, until };
    }
    throw error;
  }

  if (known.lastUsedAt && now.getTime() - Date.parse(known.lastUsedAt) < LAST_USED_GRANULARITY_MS) return;
  known.lastUsedAt = now.toISOString();
  const cutoff = new Date(now.getTime() - LAST_USED_GRANULARITY_MS).toISOString();
  await hubDb.credential
    .patch({ owner: known.owner, credentialId })
    .set({ lastUsedAt: known.lastUsedAt })
    .where(({ lastUsedAt }, { notExists, lt }) => `${notExists(lastUsedAt)} OR ${lt(lastUsedAt, cutoff)}`)
    .go({ response: 'none' })
    .catch(() => undefined); // recorded by another instance, or the credential is gone
}
