import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../shared/errors.ts';
import { put, transactWrite } from '../shared/transactions.ts';
import { PLATFORM_AUDIT_SCOPE, auditItem } from '../identity/audit.ts';
import { db } from '../identity/entities.ts';
import { billingDb, type Plan, type PlanLimits, type Subscription } from './entities.ts';

/**
 * The plan catalogue. These defaults are the seed: a plan a platform admin has never edited
 * is served from here; an edit writes its row, which wins from then on. So a fresh table on
 * AWS needs no seeding step, and every environment starts from the same catalogue.
 */
const limits = (chatPerHour: number, generationPerDay: number, apiPerMinuteHour: number): PlanLimits => ({
  chat: { hourly: chatPerHour, daily: chatPerHour * 10 },
  generation: { daily: generationPerDay },
  api: { hourly: apiPerMinuteHour },
});

export const DEFAULT_PLANS: Record<string, Plan> = {
  free: {
    planId: 'free',
    name: 'Free',
    description: 'To try the platform',
    monthlyCredits: 100,
    priceMinor: 0,
    currency: 'USD',
    trialDays: 0,
    limits: limits(30, 10, 600),
    isPublic: true,
    sortOrder: 0,
  },
  pro: {
    planId: 'pro',
    name: 'Pro',
    description: 'For individuals who create every day',
    monthlyCredits: 2_000,
    priceMinor: 2_000,
    currency: 'USD',
    trialDays: 14,
    limits: limits(300, 200, 6_000),
    isPublic: true,
    sortOrder: 1,
  },
  team: {
    planId: 'team',
    name: 'Team',
    description: 'For teams sharing brand kits and models',
    monthlyCredits: 10_000,
    priceMinor: 9_900,
    currency: 'USD',
    trialDays: 14,
    limits: limits(1_000, 1_000, 30_000),
    isPublic: true,
    sortOrder: 2,
  },
  enterprise: {
    planId: 'enterprise',
    name: 'Enterprise',
    description: 'Priced by contract',
    monthlyCredits: 100_000,
    priceMinor: 0,
    currency: 'USD',
    trialDays: 0,
    limits: limits(10_000, 10_000, 300_000),
    isPublic: false,
    sortOrder: 3,
  },
};

export const FREE_PLAN_ID = 'free';

/** A default plan by id: one of DEFAULT_PLANS' own, never what its prototype holds (`constructor`). */
const defaultPlan = (planId: string): Plan | undefined =>
  Object.hasOwn(DEFAULT_PLANS, planId) ? DEFAULT_PLANS[planId] : undefined;

export async function getPlan(planId: string): Promise<Plan | undefined> {
  const { data } = await billingDb.plan.get({ planId }).go();
  return data ?? defaultPlan(planId);
}

/** Every plan, edited ones as edited, in catalogue order; one query. */
export async function listPlans(options: { includePrivate?: boolean } = {}): Promise<Plan[]> {
  const { data } = await billingDb.plan.query.byId({}).go({ pages: 'all' });
  const merged = new Map(Object.entries(DEFAULT_PLANS));
  for (const plan of data) merged.set(plan.planId, plan);
  return [...merged.values()]
    .filter((p) => options.includePrivate || p.isPublic !== false)
    .sort((a, b) => (a.sortOrder ?? 0) - (b.sortOrder ?? 0));
}

/** Every plan by id, private ones included, in one query. */
export async function planCatalogue(): Promise<Map<string, Plan>> {
  return new Map((await listPlans({ includePrivate: true })).map((p) => [p.planId, p]));
}

/** A plan of the catalogue, or 404. */
export function planIn(catalogue: Map<string, Plan>, planId: string): Plan {
  const plan = catalogue.get(planId);
  if (!plan) throw new NotFoundError(`There is no plan ${planId}`);
  return plan;
}

/**
 * What a subscription pays a month for a plan, or would pay once on it. Subscribers keep the price
 * they bought at (grandfathered): for the subscription's own plan that is the price it keeps
 * (`price`), for the plan scheduled the price Stripe was sent for it (`pendingPrice`). Any other
 * plan, and one whose price was never kept (a subscription written before it kept one), costs the
 * catalogue's price now, as a purchase or a move to it would.
 */
export function pricePaid(sub: Subscription, plan: Plan): { amountMinor: number; currency: string } {
  const kept =
    plan.planId === sub.planId && sub.price?.planId === plan.planId
      ? sub.price
      : plan.planId === sub.pendingPlanId && sub.pendingPrice?.planId === plan.planId
        ? sub.pendingPrice
        : undefined;
  return { amountMinor: kept?.amountMinor ?? plan.priceMinor, currency: kept?.currency ?? plan.currency };
}

/**
 * Whether moving a subscription from one plan to another costs it more: by what it pays for each
 * (`pricePaid`), then by monthly credits. Not by the catalogue's prices alone: a platform admin
 * re-pricing the plan in use changes what new buyers pay, not this subscriber, so a plan sold at
 * 3,000 is an upgrade for one who pays 1,000 for a plan now sold at 5,000.
 */
export function isUpgradeFor(sub: Subscription, from: Plan, to: Plan): boolean {
  const paid = pricePaid(sub, from).amountMinor;
  const asked = pricePaid(sub, to).amountMinor;
  return asked > paid || (asked === paid && to.monthlyCredits > from.monthlyCredits);
}

export type PlanChanges = Partial<Omit<Plan, 'planId' | 'version' | 'updatedAt' | 'updatedBy'>>;

/**
 * Every new organization starts on Free, Active and unpaid (onboarding.ts), so a trial or a
 * price on it would be promised and never applied, and a private Free would be everyone's
 * contract (none could buy or leave it): refused, with a field error each.
 */
function checkFreePlan(plan: Plan) {
  if (plan.planId !== FREE_PLAN_ID) return;
  const errors: FieldError[] = [];
  if (plan.trialDays > 0)
    errors.push({ path: 'body.trialDays', message: 'The Free plan has no trial: new organizations start on it Active' });
  if (plan.priceMinor > 0)
    errors.push({ path: 'body.priceMinor', message: 'The Free plan is free: new organizations start on it unpaid' });
  if (plan.isPublic === false)
    errors.push({ path: 'body.isPublic', message: 'The Free plan is where every organization starts: it stays public' });
  if (errors.length) throw new ValidationError('The Free plan cannot have a trial or a price, nor be private', errors);
}

/**
 * A platform admin edits a plan (or adds one); the result replaces the default. The edit is
 * audited in the same transaction, in the platform's own audit log (what changed, from what).
 * The row is written only over the version this edit read (or, for a plan never saved, only
 * if no row exists yet): of two concurrent edits one wins and the other is a 409, so no change
 * is lost and each audit `before` is what its edit replaced.
 */
export async function savePlan(planId: string, changes: PlanChanges, actorId: string): Promise<Plan> {
  const { data: saved } = await billingDb.plan.get({ planId }).go({ consistent: true });
  const current: Plan = saved ??
    defaultPlan(planId) ?? {
      planId,
      name: planId,
      monthlyCredits: 0,
      priceMinor: 0,
      currency: 'USD',
      trialDays: 0,
      // As the item's defaults store them: the answer says the new plan is sold (public) at once.
      isPublic: true,
      sortOrder: 0,
    };
  const version = (saved?.version ?? 0) + 1;
  const plan: Plan = { ...current, ...changes, planId, version, updatedBy: actorId, updatedAt: new Date().toISOString() };
  checkFreePlan(plan);
  // A plan new to the catalogue had nothing before (null), not the placeholders it starts from.
  const existing = saved ?? defaultPlan(planId);
  const before = existing ? Object.fromEntries(Object.keys(changes).map((k) => [k, existing[k as keyof Plan]])) : null;
  const write = !saved
    ? billingDb.plan.create(plan)
    : billingDb.plan
        .put(plan)
        .where(({ version: v }, { eq, notExists }) => (saved.version === undefined ? notExists(v) : eq(v, saved.version)));
  const outcome = await transactWrite([
    put(write),
    put(
      db.auditEvent.create(
        auditItem({
          orgId: PLATFORM_AUDIT_SCOPE,
          actorType: 'user',
          actorId,
          action: 'plan.updated',
          targetType: 'plan',
          targetId: planId,
          details: { changes, before },
        }),
      ),
    ),
  ]);
  if (outcome.canceled) throw new ConflictError(`The plan ${planId} changed meanwhile; read it again and retry`);
  return plan;
}
