import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Subscription } from '@platform/domain/billing/entities';
import { startingPlanWrites } from '@platform/domain/billing/onboarding';
import { commitChange, getSubscription } from '@platform/domain/billing/subscription-store';
import { db } from '@platform/domain/identity/entities';
import { dynamo } from '@platform/domain/shared/dynamo';
import { newId } from '@platform/domain/shared/ids';
import { put, transactWrite } from '@platform/domain/shared/transactions';
import { api, eventually, payCheckout, stripeSubscriptions, type SignedInUser } from './api.ts';

/**
 * An organization as identity creates it, on Free, its first period starting at `start` (a
 * test of the schedules dates it in the past, never runs a job in the future). Its slug starts
 * with `label`.
 */
export async function newBillingOrg(label: string, start: string): Promise<string> {
  const orgId = newId('org');
  const owner = randomUUID();
  await transactWrite([
    put(
      db.organization.create({
        orgId,
        name: `${label} test`,
        slug: `${label}-${orgId.slice(-12).toLowerCase()}`,
        orgType: 'TEAM',
        ownerId: owner,
        createdBy: owner,
        roles: [],
        version: 1,
      }),
    ),
    ...(await startingPlanWrites(orgId, start)),
  ]);
  return orgId;
}

/** Moves a subscription to the given state as a change would (markers, org plan, version). */
export async function setSubscription(orgId: string, patch: Partial<Subscription>): Promise<Subscription> {
  const prev = await getSubscription(orgId);
  const committed = await commitChange({ prev, next: { ...prev, ...patch } });
  expect(committed.ok).toBe(true);
  return getSubscription(orgId);
}

type Command = { constructor: { name: string }; input: unknown };

/** Every DynamoDB request sent from now on, by command name (the client's `send` is wrapped: restore it after the test). */
export function sentRequests(): string[] {
  const client = dynamo();
  const sent: string[] = [];
  const previous = client.send;
  client.send = ((command: Command, options?: never) => {
    sent.push(command.constructor.name);
    return previous.call(client, command as never, options);
  }) as never;
  return sent;
}

/**
 * Runs `action` once, just before the first DynamoDB request that `matches` is sent (the request
 * then goes on): a deterministic interleaving of a job, a route or an event with another change.
 * The client's `send` is wrapped: restore it after the test.
 */
export function beforeRequest(matches: (name: string, input: string) => boolean, action: () => Promise<unknown>) {
  const client = dynamo();
  const state = { fired: false, error: undefined as unknown };
  let running = false;
  const previous = client.send;
  client.send = (async (command: Command, options?: never) => {
    if (!state.fired && !running && matches(command.constructor.name, JSON.stringify(command.input))) {
      state.fired = true;
      running = true;
      try {
        await action();
      } catch (error) {
        state.error = error;
      } finally {
        running = false;
      }
    }
    return previous.call(client, command as never, options);
  }) as never;
  return state;
}

/**
 * A platform admin's edits of the plan catalogue, for tests that make plans of their own: `putPlan`
 * saves one as `PUT /v1/admin/plans/{planId}` does, `newPlan` makes a public one with an id
 * of `newPlanId` (starting with `prefix`). The admin is asked for at each edit (a suite signs one up before all).
 */
export function planEditor(admin: () => SignedInUser, prefix: string) {
  const putPlan = (planId: string, body: object) => api('PUT', `/v1/admin/plans/${planId}`, { token: admin().accessToken, body });
  const newPlanId = () => `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  async function newPlan(body: object) {
    const planId = newPlanId();
    const res = await putPlan(planId, { isPublic: true, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return planId;
  }
  return { putPlan, newPlan, newPlanId };
}

/** Buys `planId` through checkout (the local Stripe pays) and answers the subscription once Active on it. */
export async function buyPlan(user: SignedInUser, orgId: string, planId: string): Promise<Record<string, string>> {
  const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: user.accessToken, body: { planId } });
  expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
  await payCheckout(checkout.body.url);
  const paid = await eventually(
    () => api('GET', `/v1/orgs/${orgId}/subscription`, { token: user.accessToken }),
    (r) => r.body.planId === planId && r.body.status === 'Active' && !!r.body.providerSubscriptionId,
    15_000,
  );
  return paid.body;
}

/** What Stripe charges a month for a subscription, as it stands (read without a call to its API). */
export async function chargedAtStripe(stripeId: string) {
  const found = (await stripeSubscriptions()).find((s) => s.id === stripeId) as
    { items: { data: Array<{ price: { unit_amount: number } }> } } | undefined;
  return found?.items.data[0]?.price.unit_amount;
}

/**
 * Stripe's paid invoice of the period under way of `sub` (as the API answers it) for `planId`,
 * for `amount` minor units: its invoice and payment intent are `in_<tag>` and `pi_<tag>`.
 */
export function periodInvoice(sub: Record<string, string>, orgId: string, planId: string, amount: number, tag: string) {
  const metadata = { orgId, planId };
  return {
    id: `in_${tag}`,
    object: 'invoice',
    subscription: sub.providerSubscriptionId,
    payment_intent: `pi_${tag}`,
    amount_paid: amount,
    amount_due: amount,
    currency: 'usd',
    subscription_details: { metadata },
    lines: {
      data: [
        {
          metadata,
          period: {
            start: Math.floor(Date.parse(sub.currentPeriodStart!) / 1000),
            end: Math.floor(Date.parse(sub.currentPeriodEnd!) / 1000),
          },
        },
      ],
    },
  };
}
