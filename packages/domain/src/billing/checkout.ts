import { clock } from '../shared/clock.ts';
import { ConflictError, UnprocessableError } from '../shared/errors.ts';
import type { OrgAccess } from '../identity/access.ts';
import { creditPack } from './credit-packs.ts';
import { effectivePlanId } from './lifecycle.ts';
import { isUpgradeFor, planCatalogue, planIn } from './plans.ts';
import { paymentGateway, type CheckoutRequest } from './stripe/client.ts';
import { getSubscription } from './subscription-store.ts';
import { refuseOnContract } from './subscriptions.ts';

/**
 * Checkout: a Stripe Checkout Session for a plan or a credit pack, whose payment page the
 * client opens. Nothing is stored here: the session's metadata (organization, what is
 * bought) comes back with the webhook, which applies the purchase. A plan bought during its
 * trial is charged from the trial's end; bought mid-period, it renews with our period
 * (Stripe prorates the first charge) and the prorated credits arrive with the webhook.
 */
export type CheckoutInput = { planId: string; packId?: undefined } | { packId: string; planId?: undefined };

export interface CheckoutAnswer {
  sessionId: string;
  url: string;
  expiresAt?: string;
  amountMinor: number;
  currency: string;
}

const appUrl = () => (process.env.APP_URL ?? 'http://localhost:5173').replace(/\/+$/, '');

export async function createCheckout(access: OrgAccess, input: CheckoutInput, idempotencyKey?: string): Promise<CheckoutAnswer> {
  const base = {
    orgId: access.orgId,
    successUrl: `${appUrl()}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl: `${appUrl()}/billing?checkout=cancelled`,
    // Scoped as our own record of the key is (the caller's, on this organization): Stripe's is the account's,
    // so another member's purchase under the same key would be refused there as another request.
    idempotencyKey: idempotencyKey ? `checkout:${access.orgId}:${access.actorId}:${idempotencyKey}` : undefined,
  };
  let request: CheckoutRequest;
  if (input.packId) {
    const pack = creditPack(input.packId);
    request = {
      ...base,
      kind: 'credit-pack',
      packId: pack.packId,
      name: pack.name,
      amountMinor: pack.priceMinor,
      currency: pack.currency,
    };
  } else {
    const [sub, plans] = await Promise.all([getSubscription(access.orgId), planCatalogue()]);
    const plan = planIn(plans, input.planId!);
    if (plan.priceMinor <= 0 || plan.isPublic === false)
      throw new UnprocessableError(`The ${plan.name} plan is not sold through checkout`);
    // A plan bought would replace a contract at once, mid-period.
    refuseOnContract(access, sub, plans);
    if (sub.paymentProvider === 'Stripe' && sub.providerSubscriptionId && (sub.status === 'Active' || sub.status === 'Suspended'))
      throw new ConflictError(
        sub.status === 'Suspended'
          ? 'The subscription is suspended for an unpaid invoice: once Stripe collects it, the subscription is active again'
          : `The subscription is already paid through Stripe: change the plan with PUT /v1/orgs/${access.orgId}/subscription`,
      );
    if (effectivePlanId(sub) === plan.planId && sub.status === 'Active')
      throw new ConflictError(`The organization is already on the ${plan.name} plan`);
    const inUse = planIn(plans, effectivePlanId(sub));
    const now = clock.now().toISOString();
    request = {
      ...base,
      kind: 'plan',
      planId: plan.planId,
      name: `${plan.name} plan`,
      amountMinor: plan.priceMinor,
      currency: plan.currency,
      ...(sub.status === 'Trial' && sub.trialEnd && sub.trialEnd > now ? { trialEnd: sub.trialEnd } : {}),
      // A move up (from what the organization pays for the plan in use) keeps the period; otherwise
      // (a cheaper plan bought after a cancellation) a new one starts now.
      ...(isUpgradeFor(sub, inUse, plan) && sub.currentPeriodEnd > now ? { billingCycleAnchor: sub.currentPeriodEnd } : {}),
    };
  }
  const session = await paymentGateway.createCheckoutSession(request);
  return { ...session, amountMinor: request.amountMinor, currency: request.currency };
}
