import { ConflictError } from '../shared/errors.ts';
import type { Subscription } from './entities.ts';
import { FREE_PLAN_ID } from './plans.ts';

/**
 * The life of a subscription, written once: which event moves which status to which. Every
 * change of a subscription (a route, a webhook, a schedule) asks `nextStatus`, so no code
 * path decides a status on its own. The README's state diagram is generated from this table
 * (`stateDiagram`) and a test keeps the two equal.
 */
export type SubscriptionStatus = Subscription['status'];

export const SUBSCRIPTION_EVENTS = [
  'trial.started',
  'plan.upgraded',
  'downgrade.scheduled',
  'cancel.requested',
  'resumed',
  'payment.succeeded',
  'payment.failed',
  'period.renewed',
  'period.ended.cancelled',
  'trial.ended',
  'grace.ended',
  'suspension.ended',
  'provider.cancelled',
  'contract.started',
] as const;
export type SubscriptionEvent = (typeof SUBSCRIPTION_EVENTS)[number];

/** What each event means, for the README and error messages. */
export const EVENT_DESCRIPTIONS: Record<SubscriptionEvent, string> = {
  'trial.started': 'a Free organization starts the trial of a paid plan (once per organization)',
  'plan.upgraded': 'a more expensive plan, paid through the payment method on file, at once',
  'downgrade.scheduled': 'a cheaper paid plan, from the end of the period',
  'cancel.requested': 'cancel at the end of the period (a downgrade to Free is a cancellation)',
  resumed: 'undo a cancellation or a scheduled downgrade before the period ends',
  'payment.succeeded': 'a payment for the plan arrived (checkout, invoice, or recorded by a platform admin)',
  'payment.failed': 'a payment for the plan failed: the grace period starts',
  'period.renewed': 'the period ended: the next one starts with its monthly credits',
  'period.ended.cancelled': 'the period of a cancelled subscription ended',
  'trial.ended': 'the trial ended without a payment',
  'grace.ended': 'the grace period after a failed or missing payment ended unpaid',
  'suspension.ended': 'the subscription stayed suspended too long',
  'provider.cancelled': 'the payment provider ended the subscription',
  'contract.started': 'a platform admin puts the organization on a plan sold by contract, invoiced outside: at once',
};

export const TRANSITIONS: Record<SubscriptionStatus, Partial<Record<SubscriptionEvent, SubscriptionStatus>>> = {
  Active: {
    'trial.started': 'Trial',
    'plan.upgraded': 'Active',
    'downgrade.scheduled': 'Active',
    'cancel.requested': 'Active',
    resumed: 'Active',
    'payment.succeeded': 'Active',
    'payment.failed': 'Active',
    'period.renewed': 'Active',
    'period.ended.cancelled': 'Cancelled',
    'grace.ended': 'Suspended',
    'provider.cancelled': 'Cancelled',
    'contract.started': 'Active',
  },
  Trial: {
    'cancel.requested': 'Trial',
    resumed: 'Trial',
    'payment.succeeded': 'Active',
    'period.ended.cancelled': 'Cancelled',
    'trial.ended': 'Expired',
    'provider.cancelled': 'Cancelled',
    'contract.started': 'Active',
  },
  Suspended: {
    'payment.succeeded': 'Active',
    'payment.failed': 'Suspended',
    'period.renewed': 'Suspended',
    'period.ended.cancelled': 'Cancelled',
    'suspension.ended': 'Expired',
    'provider.cancelled': 'Cancelled',
    'contract.started': 'Active',
  },
  Cancelled: {
    'trial.started': 'Trial',
    'payment.succeeded': 'Active',
    'period.renewed': 'Cancelled',
    'contract.started': 'Active',
  },
  Expired: {
    'trial.started': 'Trial',
    'payment.succeeded': 'Active',
    'period.renewed': 'Expired',
    'contract.started': 'Active',
  },
};

/** The status after `event`, or a 409 naming what is not possible from here. */
export function nextStatus(status: SubscriptionStatus, event: SubscriptionEvent): SubscriptionStatus {
  const next = TRANSITIONS[status][event];
  if (!next) throw new ConflictError(`A subscription that is ${status} cannot take this change (${EVENT_DESCRIPTIONS[event]})`);
  return next;
}

export const canTake = (status: SubscriptionStatus, event: SubscriptionEvent) => TRANSITIONS[status][event] !== undefined;

/** Statuses in which the organization uses its subscription's plan; in the others it runs on Free. */
const PLAN_IN_USE: ReadonlySet<SubscriptionStatus> = new Set(['Active', 'Trial']);

/** The plan that applies to the organization now (its limits and its monthly grant): kept as `org.planId`. */
export const effectivePlanId = (sub: Pick<Subscription, 'status' | 'planId'>) =>
  PLAN_IN_USE.has(sub.status) ? sub.planId : FREE_PLAN_ID;

/** The table as a mermaid state diagram (README). */
export function stateDiagram(): string {
  const lines = ['stateDiagram-v2', '  [*] --> Active: organization created (Free)'];
  for (const [from, events] of Object.entries(TRANSITIONS)) {
    const byTarget = new Map<string, string[]>();
    for (const [event, to] of Object.entries(events)) byTarget.set(to, [...(byTarget.get(to) ?? []), event]);
    for (const [to, names] of byTarget) lines.push(`  ${from} --> ${to}: ${names.join(', ')}`);
  }
  return lines.join('\n');
}
