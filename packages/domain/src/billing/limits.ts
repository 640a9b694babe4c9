import { conditionFailed } from '../shared/dynamo.ts';
import { TooManyRequestsError } from '../shared/errors.ts';
import { transactWrite, update, type WriteItem } from '../shared/transactions.ts';
import { LIMIT_WINDOWS, limitsDb, type LimitWindow, type PlanLimits } from './entities.ts';
import { FREE_PLAN_ID, listPlans } from './plans.ts';
import { counterOf, subjectKey, type Subject } from './subjects.ts';

export { limitSubjects, subjectKey, type Subject } from './subjects.ts';

/**
 * Usage limits and rate limits (DOMAIN.md §2, UsageLimit). A plan limits its organization
 * per resource or agent type and per window; an override (per organization, user or API
 * client) replaces the windows it names, the plan's other windows still applying. A check is
 * one request: the counters of every window in play go up together in one transaction, each
 * under `used < limit`, so a refused call counts nowhere.
 */

const HOUR = 3_600_000;

/** The window an instant falls in, and when it ends. */
export function windowOf(window: LimitWindow, now: Date): { key: string; resetsAt: Date } {
  const iso = now.toISOString();
  if (window === 'hourly')
    return { key: `h#${iso.slice(0, 13)}`, resetsAt: new Date(Date.parse(`${iso.slice(0, 13)}:00:00Z`) + HOUR) };
  if (window === 'daily')
    return { key: `d#${iso.slice(0, 10)}`, resetsAt: new Date(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) + 24 * HOUR) };
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { key: `m#${iso.slice(0, 7)}`, resetsAt: next };
}

/** A limit set for the organization (`org`), a user (`user#<id>`) or an API client (`client#<id>`). */
export interface LimitOverride {
  subject: string;
  resource: string;
  hourly?: number;
  daily?: number;
  monthly?: number;
}

/** What limits are read from: the organization item that authorization has already read. */
export interface LimitedOrg {
  orgId: string;
  planId?: string;
  limitOverrides?: unknown;
}

// The catalogue changes rarely: a function keeps it a minute instead of reading it per call. A
// plan it does not hold (created since) is read again at once, at most once a second.
const CATALOGUE_MS = 60_000;
const MISSING_PLAN_MS = 1_000;
let catalogue: { at: number; plans: Map<string, PlanLimits> } | undefined;
async function planLimits(planId: string): Promise<PlanLimits> {
  const age = catalogue ? Date.now() - catalogue.at : Infinity;
  if (age > CATALOGUE_MS || (age > MISSING_PLAN_MS && !catalogue?.plans.has(planId)))
    catalogue = {
      at: Date.now(),
      plans: new Map((await listPlans({ includePrivate: true })).map((p) => [p.planId, (p.limits ?? {}) as PlanLimits])),
    };
  return catalogue!.plans.get(planId) ?? catalogue!.plans.get(FREE_PLAN_ID) ?? {};
}

/** Forgets the cached catalogue (after an admin edits a plan, in this process). */
export const forgetPlanCatalogue = () => {
  catalogue = undefined;
};

const overridesOf = (org: LimitedOrg) => (Array.isArray(org.limitOverrides) ? (org.limitOverrides as LimitOverride[]) : []);

export interface EffectiveLimit {
  subject: string;
  resource: string;
  window: LimitWindow;
  limit: number;
  source: 'plan' | 'override';
}

/** The limits that apply to these subjects for these resources. */
export async function effectiveLimits(org: LimitedOrg, subjects: Subject[], resources: string[]): Promise<EffectiveLimit[]> {
  const [fromPlan, overrides] = [await planLimits(org.planId ?? FREE_PLAN_ID), overridesOf(org)];
  const out: EffectiveLimit[] = [];
  for (const resource of resources)
    for (const subject of subjects) {
      const key = subjectKey(subject);
      // Overrides name the organization itself `org`; counters key it by id (`org#<id>`).
      const named = subject.kind === 'org' ? 'org' : key;
      const override = overrides.find((o) => o.subject === named && o.resource === resource);
      // Only the organization has plan limits. An override sets the windows it names; the
      // plan's other windows for that resource still apply.
      const plan = subject.kind === 'org' ? fromPlan[resource] : undefined;
      for (const window of LIMIT_WINDOWS) {
        const overridden = override?.[window];
        const limit = overridden ?? plan?.[window];
        if (limit !== undefined)
          out.push({
            subject: counterOf(org.orgId, key),
            resource,
            window,
            limit,
            source: overridden !== undefined ? 'override' : 'plan',
          });
      }
    }
  return out;
}

/**
 * Counts one use of each resource against every limit in play, or refuses with 429 (and
 * counts nothing) when one is reached. No limits configured: no request at all.
 */
export async function consume(org: LimitedOrg, subjects: Subject[], resources: string[], now = new Date()): Promise<void> {
  await countUse(await effectiveLimits(org, subjects, resources), now);
}

/** A limit to count one use against: whose (`subject`), of what, per which window. */
export type CountedLimit = Pick<EffectiveLimit, 'subject' | 'resource' | 'window' | 'limit'>;

/**
 * Adds one use to the counter of each limit, each under `used < limit`, or refuses with 429
 * (and counts nothing) when one is reached. Other contexts count their own limits with it
 * (a provider key's quotas). No limits: no request at all.
 */
export async function countUse(limits: CountedLimit[], now = new Date()): Promise<void> {
  const check = counterWrites(limits, now);
  if (!check.writes.length) return;
  // One counter: a plain conditional update (half the cost of a transaction on DynamoDB).
  // Several: a transaction, so a refusal by one counts in none.
  const outcome =
    check.writes.length === 1
      ? await check.writes[0]!.op.go({ response: 'none' }).then(
          () => ({ canceled: false, reasons: [] as string[] }),
          (error: unknown) => {
            if (!conditionFailed(error)) throw error;
            return { canceled: true, reasons: ['ConditionalCheckFailed'] };
          },
        )
      : await transactWrite(check.writes);
  if (outcome.canceled) throw check.refusal(outcome.reasons);
}

/**
 * The counter increments of a limit check, for a caller that sends them in its own transaction
 * (the gateway, with its credit reservation), and the 429 to answer when some of them failed:
 * `refusal(reasons)` takes the cancellation reasons of these writes, in order.
 */
export async function limitWrites(org: LimitedOrg, subjects: Subject[], resources: string[], now = new Date(), units = 1) {
  return counterWrites(await effectiveLimits(org, subjects, resources), now, units);
}

/** A counter a check went up on: where it is and when its window ends. */
export interface CountedCounter {
  subject: string;
  resource: string;
  window: string;
  resetsAt: Date;
}

/**
 * `units` uses at once (a gateway container's admission lease), each counter under
 * `used <= limit - units`; at most a tenth of the smallest limit, so that a few leases cannot
 * hold a whole window's allowance (small limits are counted one use at a time).
 */
function counterWrites(limits: CountedLimit[], now: Date, requested = 1) {
  const units = Math.max(1, Math.min(requested, ...limits.map((l) => Math.floor(l.limit / 10))));
  const counters = limits.map((l) => ({ ...l, ...windowOf(l.window, now) }));
  // A limit below one use (0: nothing allowed) refuses at once, with no write: a counter that
  // does not exist yet would pass its condition (`notExists(used)`).
  const closed = counters.map((c) => (c.limit < units ? 'ConditionalCheckFailed' : 'None'));
  const writes = counters.map((c) =>
    update(
      limitsDb.counter
        .update({ subject: c.subject, resource: c.resource, window: c.key })
        .add({ used: units })
        .set({ ttl: Math.floor(c.resetsAt.getTime() / 1000) + 86_400 })
        .where(({ used }, { notExists, lte }) => `${notExists(used)} OR ${lte(used, c.limit - units)}`),
    ),
  ) as Array<WriteItem & { op: { go(options: { response: 'none' }): Promise<unknown> } }>;
  const refusal = (reasons: string[]) => {
    const reached = counters.filter((_, i) => reasons[i] === 'ConditionalCheckFailed');
    const last = (reached.length ? reached : counters).reduce((a, b) => (b.resetsAt > a.resetsAt ? b : a));
    const retryAfter = Math.max(1, Math.ceil((last.resetsAt.getTime() - now.getTime()) / 1000));
    const error = new TooManyRequestsError(
      `The ${last.window} limit of ${last.limit} for ${last.resource} is reached; it resets at ${last.resetsAt.toISOString()}`,
      retryAfter,
    );
    Object.assign(error.headers, {
      'x-ratelimit-limit': String(last.limit),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(Math.floor(last.resetsAt.getTime() / 1000)),
    });
    return error;
  };
  if (closed.includes('ConditionalCheckFailed')) throw refusal(closed);
  const counted: CountedCounter[] = counters.map((c) => ({
    subject: c.subject,
    resource: c.resource,
    window: c.key,
    resetsAt: c.resetsAt,
  }));
  return { writes, refusal, units, counters: counted };
}

/** Gives back uses counted and not made (the unused part of a lease), on counters whose window is still open. */
export function refundWrites(counters: CountedCounter[], units: number, now = new Date()): WriteItem[] {
  if (units <= 0) return [];
  return counters
    .filter((c) => c.resetsAt.getTime() > now.getTime())
    .map((c) =>
      update(
        limitsDb.counter
          .update({ subject: c.subject, resource: c.resource, window: c.window })
          .add({ used: -units })
          .where(({ used }, { gte }) => gte(used, units)),
      ),
    );
}

/** Each limit of the organization with what is used of it now (one read of the counters). */
export async function limitsWithUsage(org: LimitedOrg, now = new Date()) {
  const overrides = overridesOf(org);
  const fromPlan = await planLimits(org.planId ?? FREE_PLAN_ID);
  const resources = new Set([...Object.keys(fromPlan), ...overrides.map((o) => o.resource)]);
  const limits = [
    ...(await effectiveLimits(org, [{ kind: 'org', id: org.orgId }], [...resources])),
    ...overrides
      .filter((o) => o.subject !== 'org')
      .flatMap((o) =>
        LIMIT_WINDOWS.filter((w) => o[w] !== undefined).map((window) => ({
          subject: o.subject,
          counter: counterOf(org.orgId, o.subject),
          resource: o.resource,
          window,
          limit: o[window]!,
          source: 'override' as const,
        })),
      ),
  ];
  const keyed = limits.map((l) => ({ counter: l.subject, ...l, ...windowOf(l.window, now) }));
  const { data } = keyed.length
    ? await limitsDb.counter.get(keyed.map((k) => ({ subject: k.counter, resource: k.resource, window: k.key }))).go()
    : { data: [] };
  return keyed.map((k) => {
    const used = data.find((c) => c.subject === k.counter && c.resource === k.resource && c.window === k.key)?.used ?? 0;
    return {
      subject: k.subject,
      resource: k.resource,
      window: k.window,
      limit: k.limit,
      used,
      remaining: Math.max(0, k.limit - used),
      resetsAt: k.resetsAt.toISOString(),
      source: k.source,
    };
  });
}

/**
 * The overrides after setting (or, with no window given, removing) one. Setting replaces the
 * subject's override of that resource as a whole (PUT): windows it does not name are the plan's
 * again, or unlimited for a user or an API client.
 */
export function withOverride(org: LimitedOrg, input: LimitOverride): LimitOverride[] {
  const others = overridesOf(org).filter((o) => !(o.subject === input.subject && o.resource === input.resource));
  const windows = Object.fromEntries(LIMIT_WINDOWS.filter((w) => input[w] !== undefined).map((w) => [w, input[w]]));
  return Object.keys(windows).length ? [...others, { subject: input.subject, resource: input.resource, ...windows }] : others;
}
