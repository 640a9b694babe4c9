import { db } from '../identity/entities.ts';
import { NotFoundError, UnprocessableError } from '../shared/errors.ts';
import type { Model } from '../hub/default-models.ts';
import type { Provider } from '../hub/default-providers.ts';
import type { CredentialItem } from '../hub/entities.ts';
import { credentialTarget, credentialVersion } from '../hub/credentials.ts';
import { orgKey, PLATFORM, userKey } from '../hub/owners.ts';
import { ruleFromItem, typesCompatible, type RoutingRule } from '../hub/routing-rules.ts';
import { cachedSnapshot, OWNER_TTL_MS, type HubSnapshot } from '../hub/snapshot.ts';
import { costOf } from './pricing.ts';
import type { ApiKeyStrategy, Candidate, GatewayOperation, ModelPricing, RoutePlan, RouteRequest, Target } from './types.ts';

/**
 * The router: which models, through whose key, in which order, for one gateway call.
 *
 * 1. The organization's active rules of the call's model type (TEXT and CODE are one: a chat
 *    call passes TEXT, for a CODE model too), by priority (1 first), then the global rules.
 *    The first rule whose conditions hold (requested model or alias, plan, tags) and that
 *    yields at least one usable model decides.
 * 2. Its targets are filtered (active model and provider, compatible type, the operation's
 *    capability and, for a stream, `stream` at a provider that streams, the cost cap, a key under the organization's apiKeyStrategy); one is picked
 *    by weight (randomness injected for tests), then come the other targets in order, then
 *    the fallbacks in order.
 * 3. No rule: the requested model itself (by id or alias, then provider model id; an
 *    organization's custom models and aliases first).
 *
 * Prices: what the platform pays for, the platform prices. A custom model served through the
 * platform's key (or IAM role) is priced as the catalogue model of the same provider and
 * provider model id; with no such model the platform's key does not serve it (it needs an own
 * key: `model:needs-own-key`). Through an own key it keeps the organization's prices.
 *
 * Keys: PLATFORM → the platform's keys only; BYOK → the caller's own key for the provider,
 * then the organization's (a provider that needs no key, such as Bedrock on the platform's IAM
 * role, is served by the platform when there is no own key); HYBRID → the own keys when there
 * are any, then the platform's. An own key is a credential that runs the call on its owner's
 * account (`runsOnOwnAccount`): a key-less one of Bedrock, or one of the local model (key or
 * not), is none. Each key of a model is a candidate of its own, in that order, so a key the
 * provider refuses or whose quota is spent falls back to the next key of the same model before
 * any other model (the executor falls back on exactly those failures).
 *
 * Hot path: everything comes from in-memory snapshots (hub/snapshot.ts; the organization's
 * strategy is cached alike) and decrypted keys are cached (hub/credentials.ts), so in steady
 * state a decision makes no DynamoDB request; a cold one reads the platform partition, the
 * organization's, its strategy (unless the caller passes it) and, under BYOK or HYBRID with a
 * user, the user's: at most four requests.
 */
export interface ResolveOptions {
  /** A number in [0, 1) for the weighted pick; Math.random by default. */
  random?: () => number;
}

interface Context {
  request: RouteRequest;
  operation: GatewayOperation;
  strategy: ApiKeyStrategy;
  platform: HubSnapshot;
  org: HubSnapshot;
  user?: HubSnapshot;
}

/** A usable model, before its key is decrypted. */
interface Choice {
  model: Model;
  provider: Provider;
  keySource: Candidate['keySource'];
  credential?: CredentialItem;
  /** What the call is charged at: the model's prices, or the catalogue's for a custom model on the platform's key. */
  pricing: ModelPricing;
  reason: string;
}

const strategies = new Map<string, { strategy: ApiKeyStrategy; at: number }>();

async function strategyOf(orgId: string): Promise<ApiKeyStrategy> {
  const hit = strategies.get(orgId);
  if (hit && Date.now() - hit.at < OWNER_TTL_MS) return hit.strategy;
  const { data } = await db.organization.get({ orgId }).go();
  if (!data || data.deletedAt) throw new NotFoundError('Organization not found');
  const strategy = data.apiKeyStrategy ?? 'PLATFORM';
  if (strategies.size >= 10_000) strategies.clear();
  strategies.set(orgId, { strategy, at: Date.now() });
  return strategy;
}

/** Forgets cached strategies (tests; an organization's change is otherwise seen within the TTL). */
export const forgetStrategies = () => strategies.clear();

/**
 * The model a client named: by the organization's own ids and aliases, then the catalogue's ids
 * and aliases, then by the provider's model id (the organization's own first); active ones
 * before retired ones.
 */
export function findModel(name: string, org: HubSnapshot, platform: HubSnapshot): Model | undefined {
  return matchModel(name, [org.models, platform.models]);
}

/**
 * `findModel` over lists of models, the owner's first: ids and aliases are lower-case, so a name
 * matches them in any case; a provider's model id is matched as the provider spells it. An
 * owner's alias comes before the next list's ids: the organization named it, and a catalogue
 * model saved later with that id (new, or brought back) must not take the organization's calls.
 */
export function matchModel<M extends Model>(name: string, lists: M[][]): M | undefined {
  const lower = name.toLowerCase();
  const byId = (m: M) => m.modelId === lower;
  const byAlias = (m: M) => m.aliases.includes(lower);
  const byProviderModelId = (m: M) => m.providerModelId === name;
  const steps: Array<[(m: M) => boolean, M[]]> = [
    ...lists.flatMap((models): Array<[(m: M) => boolean, M[]]> => [
      [byId, models],
      [byAlias, models],
    ]),
    ...lists.map((models): [(m: M) => boolean, M[]] => [byProviderModelId, models]),
  ];
  for (const [way, models] of steps) {
    const found = models.filter(way);
    const chosen = found.find((m) => m.status !== 'Inactive') ?? found[0];
    if (chosen) return chosen;
  }
  return undefined;
}

function inferOperation(request: RouteRequest, requested?: Model): GatewayOperation {
  if (request.operation) return request.operation;
  if (request.type === 'IMAGE') return 'images';
  if (requested && requested.capabilities.includes('embeddings') && !requested.capabilities.includes('chat')) return 'embeddings';
  return 'chat';
}

/** The owner's key for the provider: its default among the usable ones, else the newest usable one. */
function ownCredential(
  snapshot: HubSnapshot | undefined,
  slug: string,
  usable: (c: CredentialItem) => boolean = () => true,
): CredentialItem | undefined {
  if (!snapshot) return undefined;
  const active = snapshot.credentials.filter((c) => c.providerSlug === slug && c.isActive && usable(c));
  const preferred = active.find((c) => c.credentialId === snapshot.defaults[slug]);
  return preferred ?? active.sort((a, b) => b.credentialId.localeCompare(a.credentialId))[0];
}

/** The adapters that call a credential's base URL; Bedrock and the local model have none. */
const CALLS_BASE_URL: ReadonlySet<Provider['adapter']> = new Set(['openai', 'anthropic', 'google']);

/**
 * Whether a credential's key makes the provider bill its owner: a provider that requires one
 * (its calls authenticate as the key's account), or Bedrock, where a key is a Bedrock API key the
 * adapter sends in place of the platform's IAM role. Any other provider needs no key, so one
 * stored there proves nothing: the local model ignores it, and a keyless server (the platform's,
 * at the provider's base URL) serves the call whatever it is sent. There only the base URL says
 * whose server runs the call.
 */
const keyBillsOwner = (provider: Provider) => provider.requiresApiKey || provider.adapter === 'bedrock';

/** A base URL as the adapters call it, so that two spellings of one server compare equal. */
const normalUrl = (url: string) => (URL.canParse(url) ? new URL(url).href : url).replace(/\/+$/, '');

/**
 * Whether a call through an organization's or a user's credential runs on their own account,
 * which alone makes it theirs to pay (BYOK, not charged): it carries a key that bills them
 * (`keyBillsOwner`), or, for a provider that takes none, sends the call to their own server (a
 * base URL that is neither the provider's default nor one of the platform's keys'). A provider
 * that needs no key accepts a credential without one (Bedrock's config, say), but such a call
 * runs on the platform's IAM role or server: counted as the organization's, it would be served
 * by the platform for free.
 */
function runsOnOwnAccount(ctx: Context, provider: Provider, credential: CredentialItem): boolean {
  if (credential.keyCipher && keyBillsOwner(provider)) return true;
  const baseUrl = credential.baseUrl;
  if (!baseUrl || !CALLS_BASE_URL.has(provider.adapter)) return false;
  const platformUrls = [
    provider.defaultBaseUrl,
    ...ctx.platform.credentials.filter((c) => c.providerSlug === provider.slug).map((c) => c.baseUrl),
  ];
  return !platformUrls.some((url) => url !== undefined && normalUrl(url) === normalUrl(baseUrl));
}

type Key = Pick<Choice, 'keySource' | 'credential'>;

/** Whose keys may pay for a call to the provider, in the order to try them, or why there is none. */
function keysFor(ctx: Context, provider: Provider): Key[] | string {
  const platform = (): Key | string => {
    const credential = ownCredential(ctx.platform, provider.slug);
    if (credential) return { keySource: 'platform', credential };
    return provider.requiresApiKey ? `no platform key for ${provider.slug}` : { keySource: 'platform' };
  };
  const only = (key: Key | string) => (typeof key === 'string' ? key : [key]);
  if (ctx.strategy === 'PLATFORM') return only(platform());
  // The caller's own key, then the organization's: another key of the organization is a fallback.
  // A credential that would run on the platform's account is no own key (`runsOnOwnAccount`).
  const owns = (c: CredentialItem) => runsOnOwnAccount(ctx, provider, c);
  const own = [ownCredential(ctx.user, provider.slug, owns), ownCredential(ctx.org, provider.slug, owns)]
    .filter((c): c is CredentialItem => c !== undefined)
    .map((credential): Key => ({ keySource: 'byok', credential }));
  if (!own.length)
    return ctx.strategy === 'HYBRID' || !provider.requiresApiKey ? only(platform()) : `no own key for ${provider.slug}`;
  // HYBRID: the platform's key after the own ones, should they be refused or spent.
  const fallback = ctx.strategy === 'HYBRID' ? platform() : undefined;
  return typeof fallback === 'object' ? [...own, fallback] : own;
}

/** The larger of a model's two per-million-token prices, which a rule's cost cap bounds. */
const pricePerMTok = (pricing: ModelPricing) => Math.max(pricing.inputPerMTokMicros, pricing.outputPerMTokMicros);

/** What a million tokens in and out and one image cost: how two catalogue prices of one provider model compare. */
const referenceCost = (pricing: ModelPricing) =>
  costOf(pricing, { inputTokens: 1_000_000, outputTokens: 1_000_000, images: 1 }).totalCostMicros;

/**
 * The platform's published price of the provider model behind a custom model: its catalogue
 * model's (an active one before a retired one; of two, the dearer, so a call never costs less
 * than the provider charges the platform). None when the catalogue does not have it.
 */
function cataloguePricing(ctx: Context, model: Model): ModelPricing | undefined {
  const same = ctx.platform.models.filter(
    (m) => !m.orgId && m.providerSlug === model.providerSlug && m.providerModelId === model.providerModelId,
  );
  const active = same.filter((m) => m.status !== 'Inactive');
  const [dearest] = (active.length ? active : same).sort((a, b) => referenceCost(b.pricing) - referenceCost(a.pricing));
  return dearest?.pricing;
}

/**
 * What a call through this key is charged at. An organization prices its custom models only for
 * its own keys (a BYOK call is logged, not charged); what the platform's key pays for is priced
 * by the platform, or not served when the catalogue has no price for it.
 */
function pricingFor(ctx: Context, model: Model, key: Key): ModelPricing | undefined {
  if (key.keySource !== 'platform' || !model.orgId) return model.pricing;
  return cataloguePricing(ctx, model);
}

/** Whether the model can serve this call (and through whose keys, one choice each), or why not. */
function choose(ctx: Context, model: Model | undefined, modelId: string, reason: string, maxCost?: number): Choice[] | string {
  if (!model) return `${modelId}:unknown`;
  if (model.status === 'Inactive') return `${modelId}:inactive`;
  const provider = ctx.platform.providers.get(model.providerSlug);
  if (!provider || provider.status === 'Inactive') return `${modelId}:provider-inactive`;
  if (!typesCompatible(model.type, ctx.request.type)) return `${modelId}:type-${model.type}`;
  if (!model.capabilities.includes(ctx.operation)) return `${modelId}:no-${ctx.operation}`;
  if (ctx.request.stream && !(model.capabilities.includes('stream') && provider.supportsStreaming)) return `${modelId}:no-stream`;
  const keys = keysFor(ctx, provider);
  if (typeof keys === 'string') return `${modelId}:${keys.replace(/ /g, '-')}`;
  const priced = keys.flatMap((key) => {
    const pricing = pricingFor(ctx, model, key);
    return pricing ? [{ ...key, pricing }] : [];
  });
  if (!priced.length) return `${modelId}:needs-own-key`;
  // The cap bounds what the call is charged at, which for a custom model depends on the key.
  const capped = maxCost === undefined ? priced : priced.filter((key) => pricePerMTok(key.pricing) <= maxCost);
  if (!capped.length) return `${modelId}:over-cost`;
  return capped.map((key, i) => ({ model, provider, reason: i ? `${reason}, next key` : reason, ...key }));
}

/** A model a rule names: the organization's custom model, or the catalogue's. */
const modelById = (ctx: Context, modelId: string) =>
  ctx.org.models.find((m) => m.modelId === modelId) ?? ctx.platform.models.find((m) => m.modelId === modelId);

function conditionsHold(rule: RoutingRule, request: RouteRequest, requested?: Model): boolean {
  const { models, planIds, tags } = rule.conditions;
  if (models) {
    const named = new Set(models.map((m) => m.toLowerCase()));
    if (!named.has(request.requestedModel.toLowerCase()) && !(requested && named.has(requested.modelId))) return false;
  }
  if (planIds && !planIds.includes(request.planId)) return false;
  if (tags && !tags.every((t) => request.tags?.includes(t))) return false;
  return true;
}

/** What a rule offers for this call: the weighted pick, the other targets, the fallbacks; and what it skipped. */
function applyRule(ctx: Context, rule: RoutingRule, random: () => number) {
  const cap = rule.conditions.maxCostPerMTokMicros;
  const skipped: string[] = [];
  const usable = <T extends { modelId: string }>(entries: T[], reason: (entry: T, i: number) => string) =>
    entries.flatMap((entry, i) => {
      const choice = choose(ctx, modelById(ctx, entry.modelId), entry.modelId, reason(entry, i), cap);
      if (typeof choice === 'string') {
        skipped.push(choice);
        return [];
      }
      return [{ entry, choice }];
    });

  const targets = usable(rule.targets, (_, i) => `rule ${rule.ruleId} target ${i + 1}`);
  const total = targets.reduce((sum, t) => sum + t.entry.weight, 0);
  const chosen: Choice[] = [];
  if (targets.length) {
    let roll = Math.min(Math.max(random(), 0), 0.999_999_999) * total;
    const primary = targets.find((t) => (roll -= t.entry.weight) < 0) ?? targets[targets.length - 1]!;
    const [first, ...nextKeys] = primary.choice;
    chosen.push({ ...first!, reason: `rule ${rule.ruleId} weighted ${primary.entry.weight}/${total}` }, ...nextKeys);
    chosen.push(...targets.filter((t) => t !== primary).flatMap((t) => t.choice));
  }
  const fallbacks = usable(
    rule.fallbacks.map((modelId) => ({ modelId })),
    (_, i) => `rule ${rule.ruleId} fallback ${i + 1}`,
  );
  for (const { choice } of fallbacks)
    if (!chosen.some((c) => c.model.modelId === choice[0]!.model.modelId)) chosen.push(...choice);
  return { chosen, skipped };
}

async function toCandidate(choice: Choice): Promise<Candidate> {
  const { model, provider, credential } = choice;
  const target: Target = credential
    ? await credentialTarget(credential, provider, model.providerModelId)
    : {
        adapter: provider.adapter,
        providerSlug: provider.slug,
        providerModelId: model.providerModelId,
        ...(provider.defaultBaseUrl ? { baseUrl: provider.defaultBaseUrl } : {}),
      };
  return {
    modelId: model.modelId,
    modelName: model.name,
    type: model.type,
    pricing: choice.pricing,
    target,
    keySource: choice.keySource,
    ...(credential
      ? {
          credentialId: credential.credentialId,
          credentialOwner: credential.owner,
          credentialVersion: credentialVersion(credential),
        }
      : {}),
    reason: choice.reason,
  };
}

/** Printable ASCII only, for a header. */
const ascii = (text: string, max: number) => text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
/** A name inside double quotes. */
const quoted = (text: string, max: number) => `"${ascii(text, max).replace(/"/g, "'")}"`;

function explain(head: string, chosen: Choice[], skipped: string[]): string {
  const [first, ...rest] = chosen;
  const parts = [head, `pick=${first!.model.modelId}`, `key=${first!.keySource}`];
  // A model seen before is the same model through its next key: `model@platform`.
  const named = (c: Choice, i: number) =>
    chosen.slice(0, i + 1).some((e) => e.model.modelId === c.model.modelId)
      ? `${c.model.modelId}@${c.keySource}`
      : c.model.modelId;
  if (rest.length) parts.push(`then=${rest.map(named).join(',')}`);
  if (skipped.length) parts.push(`skipped=${skipped.slice(0, 5).join(',')}${skipped.length > 5 ? ',...' : ''}`);
  return ascii(parts.join(' '), 400);
}

/** The candidates for one gateway call, in the order to try them, and why. */
export async function resolveRoute(request: RouteRequest, options: ResolveOptions = {}): Promise<RoutePlan> {
  const random = options.random ?? Math.random;
  const [platform, org, strategy] = await Promise.all([
    cachedSnapshot(PLATFORM),
    cachedSnapshot(orgKey(request.orgId)),
    request.apiKeyStrategy ?? strategyOf(request.orgId),
  ]);
  const user = request.userId && strategy !== 'PLATFORM' ? await cachedSnapshot(userKey(request.userId)) : undefined;
  const requested = findModel(request.requestedModel, org, platform);
  const ctx: Context = { request, operation: inferOperation(request, requested), strategy, platform, org, user };

  const rules = [org, platform].flatMap((s) =>
    s.rules
      .filter((r) => r.isActive && typesCompatible(r.modelType, request.type))
      .map(ruleFromItem)
      .sort((a, b) => a.priority - b.priority || a.ruleId.localeCompare(b.ruleId)),
  );
  const passed: string[] = [];
  for (const rule of rules) {
    if (!conditionsHold(rule, request, requested)) continue;
    const { chosen, skipped } = applyRule(ctx, rule, random);
    if (!chosen.length) {
      passed.push(`${rule.ruleId}:no-usable-model`);
      continue;
    }
    const head = `rule=${rule.ruleId} ${quoted(rule.name, 40)} ${rule.scope}`;
    return {
      candidates: await Promise.all(chosen.map(toCandidate)),
      ruleId: rule.ruleId,
      explanation: explain(head, chosen, [...passed, ...skipped]),
    };
  }

  if (!requested)
    throw new NotFoundError(`Unknown model ${request.requestedModel}: list the models you can use at GET /v1/models`, [
      { path: 'model', message: 'Not a model id, provider model id or alias' },
    ]);
  const choices = choose(ctx, requested, requested.modelId, 'requested');
  if (typeof choices === 'string') throw new UnprocessableError(cannotServe(ctx, requested, choices));
  return {
    candidates: await Promise.all(choices.map(toCandidate)),
    ruleId: 'default',
    explanation: explain(`rule=default requested=${ascii(request.requestedModel, 60)}`, choices, passed),
  };
}

/** A sentence for why the requested model cannot be served. */
function cannotServe(ctx: Context, model: Model, why: string): string {
  const reason = why.slice(model.modelId.length + 1);
  if (reason === 'inactive') return `The model ${model.modelId} is retired`;
  if (reason === 'provider-inactive') return `The provider of ${model.modelId} (${model.providerSlug}) is not available`;
  if (reason.startsWith('type-')) return `${model.modelId} is a ${model.type} model; this call needs ${ctx.request.type}`;
  if (reason === 'no-stream') return `${model.modelId} does not stream: send stream: false`;
  if (reason.startsWith('no-') && !reason.includes('key')) return `${model.modelId} cannot do ${ctx.operation}`;
  if (reason.startsWith('no-own-key'))
    return `This organization uses its own provider keys (BYOK) and has no active key for ${model.providerSlug}: add one at /v1/orgs/${ctx.request.orgId}/provider-credentials`;
  if (reason === 'needs-own-key')
    return `${model.modelId} is priced by this organization and is not in the platform's catalogue: it is served only through your own key for ${model.providerSlug} (apiKeyStrategy BYOK or HYBRID)`;
  if (reason.startsWith('no-platform-key'))
    return `The platform has no key for ${model.providerSlug}; use another model or your own key (HYBRID or BYOK)`;
  return `${model.modelId} cannot be served (${reason})`;
}
