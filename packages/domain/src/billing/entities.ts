import { type EntityItem } from 'electrodb';
import { clock } from '../shared/clock.ts';
import { Entity, SERVICE, entityConfig, lazy } from '../shared/dynamo.ts';
import { TRANSACTION_TYPES, SUBSCRIPTION_STATUSES, PAYMENT_PROVIDERS } from './enums.ts';
export { TRANSACTION_TYPES, SUBSCRIPTION_STATUSES, PAYMENT_PROVIDERS, type TransactionType } from './enums.ts';

/**
 * The credit ledger (DOMAIN.md §2, CreditTransaction). Per organization, one account item
 * holds what is `available` and what is `reserved`; every change of the balance is a ledger
 * row keyed by its idempotency key, written in the same transaction, so
 * available + reserved == the sum of the ledger, always, and a retry never applies twice.
 */
const service = SERVICE;
const config = entityConfig;

const CreditAccountEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'creditaccount', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          available: { type: 'number', required: true, default: 0 },
          reserved: { type: 'number', required: true, default: 0 },
          /** Below this many available credits the organization's admins hear of it (10% of the plan's grant). */
          lowBalanceThreshold: { type: 'number' },
          /** The period that threshold belongs to: the warning goes out once per period. */
          lowBalancePeriod: { type: 'string' },
          updatedAt: { type: 'string', watch: '*', default: () => new Date().toISOString(), set: () => new Date().toISOString() },
        },
        indexes: {
          byOrg: { pk: { field: 'pk', composite: ['orgId'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

const CreditTransactionEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'credittransaction', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          /** The idempotency key of the operation: one row per key, ever. */
          key: { type: 'string', required: true, readOnly: true },
          transactionId: { type: 'string', required: true, readOnly: true },
          type: { type: TRANSACTION_TYPES, required: true },
          /** Signed: credits in are positive, credits out negative. */
          amount: { type: 'number', required: true },
          description: { type: 'string' },
          actorId: { type: 'string' },
          reservationId: { type: 'string' },
          generationRequestId: { type: 'string' },
          apiCallId: { type: 'string' },
          invoiceId: { type: 'string' },
          /** On a refund: the transaction id of the charge (a debit or a settle) it gives back. */
          refundOf: { type: 'string' },
          /** On a charge: the credits its refunds gave back so far (never more than it took). */
          refunded: { type: 'number' },
          metadata: { type: 'any' },
          syncedAt: { type: 'string' },
          createdAt: { type: 'string', required: true, readOnly: true },
        },
        indexes: {
          // Keys are the callers' idempotency keys: case matters.
          byKey: { pk: { field: 'pk', composite: ['orgId'] }, sk: { field: 'sk', composite: ['key'], casing: 'none' } },
          byTime: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['orgId'] },
            sk: { field: 'gsi1sk', composite: ['createdAt', 'transactionId'] },
          },
        },
      },
      config(),
    ),
);

const CreditReservationEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'creditreservation', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          /** The caller's idempotency key of the reservation: settle and release name it. */
          reservationId: { type: 'string', required: true, readOnly: true },
          amount: { type: 'number', required: true },
          status: { type: ['held', 'settled', 'released'] as const, required: true },
          purpose: { type: 'string' },
          /** A sweep releases what is still held after this. */
          expiresAt: { type: 'string', required: true },
          /** Spreads the sweep index over partitions: no single hot key for the platform. */
          shard: { type: 'number', required: true, readOnly: true },
          settledAmount: { type: 'number' },
          /** Charged so far from a hold that serves several calls (a gateway lease); settled when it closes. */
          drawn: { type: 'number' },
          closedAt: { type: 'string' },
          ttl: { type: 'number' },
          createdAt: { type: 'string', required: true, readOnly: true },
        },
        indexes: {
          byId: { pk: { field: 'pk', composite: ['orgId'] }, sk: { field: 'sk', composite: ['reservationId'], casing: 'none' } },
          /** Held reservations by expiry, for the sweep. */
          byStatus: {
            index: 'gsi2',
            pk: { field: 'gsi2pk', composite: ['status', 'shard'] },
            sk: { field: 'gsi2sk', composite: ['expiresAt', 'orgId', 'reservationId'] },
          },
        },
      },
      config(),
    ),
);

export const ledgerDb = {
  get account() {
    return CreditAccountEntity();
  },
  get transaction() {
    return CreditTransactionEntity();
  },
  get reservation() {
    return CreditReservationEntity();
  },
};

export type CreditAccount = EntityItem<ReturnType<typeof CreditAccountEntity>>;
export type CreditTransaction = EntityItem<ReturnType<typeof CreditTransactionEntity>>;
export type CreditReservation = EntityItem<ReturnType<typeof CreditReservationEntity>>;

export const PLAN_IDS = ['free', 'pro', 'team', 'enterprise'] as const;

/** Limits of a plan per resource or agent type, per window (enforced by the limits middleware). */
export type PlanLimits = Record<string, { hourly?: number; daily?: number; monthly?: number }>;

const PlanEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'plan', version: '1', service },
        attributes: {
          planId: { type: 'string', required: true, readOnly: true },
          name: { type: 'string', required: true },
          description: { type: 'string' },
          monthlyCredits: { type: 'number', required: true },
          /** Price per month in minor units (cents) of `currency`; 0 for free or priced by contract. */
          priceMinor: { type: 'number', required: true },
          currency: { type: 'string', required: true, default: 'USD' },
          trialDays: { type: 'number', required: true, default: 0 },
          limits: { type: 'any' },
          isPublic: { type: 'boolean', default: true },
          sortOrder: { type: 'number', default: 0 },
          /** Moved on by each edit, which is written only over the version it read (plans.ts `savePlan`). */
          version: { type: 'number' },
          updatedBy: { type: 'string' },
          updatedAt: { type: 'string' },
        },
        indexes: {
          /** Every plan in one partition: a short list, read in one query. */
          byId: { pk: { field: 'pk', composite: [] }, sk: { field: 'sk', composite: ['planId'] } },
        },
      },
      config(),
    ),
);

const SubscriptionEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'subscription', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          planId: { type: 'string', required: true },
          status: { type: SUBSCRIPTION_STATUSES, required: true },
          currentPeriodStart: { type: 'string', required: true },
          currentPeriodEnd: { type: 'string', required: true },
          /**
           * Where the monthly cycle started (Stripe's billing cycle anchor): each period ends on its
           * day of the month, or on the month's last day when that is shorter. Absent (older items):
           * each period's own start.
           */
          billingAnchor: { type: 'string' },
          trialStart: { type: 'string' },
          trialEnd: { type: 'string' },
          cancelAtPeriodEnd: { type: 'boolean', default: false },
          cancelledAt: { type: 'string' },
          /** A downgrade waits for the end of the period. */
          pendingPlanId: { type: 'string' },
          /**
           * The plan a platform admin put the subscription on by contract (`startContract`, or a
           * payment by hand for a plan not sold): while it is still on that plan, only a platform admin
           * changes or ends it. A plan merely no longer sold (made private) is no contract of anyone's.
           */
          contractPlanId: { type: 'string' },
          /**
           * What the payment provider charges a month for the plan (`planId` names the plan it is the
           * price of): the catalogue's price when it was bought or moved to, kept when the catalogue's
           * changes (grandfathered). Stripe is sent it again when moved back to that plan (a resume).
           */
          price: {
            type: 'map',
            properties: {
              planId: { type: 'string', required: true },
              amountMinor: { type: 'number', required: true },
              currency: { type: 'string', required: true },
            },
          },
          /** The price Stripe was sent for the scheduled plan (`pendingPlanId`): the plan's `price` once it applies. */
          pendingPrice: {
            type: 'map',
            properties: {
              planId: { type: 'string', required: true },
              amountMinor: { type: 'number', required: true },
              currency: { type: 'string', required: true },
            },
          },
          paymentProvider: { type: PAYMENT_PROVIDERS },
          providerSubscriptionId: { type: 'string' },
          paymentMethodId: { type: 'string' },
          odooSaleOrderId: { type: 'string' },
          /** Paid plans: the end of the last period paid for; a renewal into an unpaid period starts the grace period. */
          paidThrough: { type: 'string' },
          /** A payment is due: unpaid by then, the subscription is suspended. */
          graceUntil: { type: 'string' },
          suspendedAt: { type: 'string' },
          /** `created` (epoch seconds) of the last provider subscription event applied: older ones change nothing. */
          providerEventAt: { type: 'number' },
          /**
           * A route is changing the subscription at the payment provider until then (`claimChange`):
           * no other change commits meanwhile, so a change refused with 409 never touched the provider.
           */
          claimedUntil: { type: 'string' },
          /**
           * The keys of the credits granted for the current period (its plan's grant, prorations):
           * every change is conditioned on the version, so a change knows before it writes whether
           * its grant was already credited, and leaves it out instead of failing on the ledger row.
           */
          periodGrants: { type: 'list', items: { type: 'string' } },
          /**
           * The monthly credits the current period is credited at, as they were granted: its plan's
           * grant, raised by each proration to the plan moved to. A later upgrade in the period
           * prorates from it, whatever the catalogue says of those plans since. Absent (older items):
           * the richest plan listed in `periodGrants`, as the catalogue has it now.
           */
          periodMonthlyCredits: { type: 'number' },
          /**
           * The last Stripe subscriptions cancelled at Stripe for a change here (a contract, a plan
           * paid by hand), newest first: their late events change nothing (`endedAtStripe`).
           */
          endedProviderSubscriptionIds: { type: 'list', items: { type: 'string' } },
          /** Optimistic concurrency: every change is conditioned on the version it read. */
          version: { type: 'number', required: true, default: 1 },
          createdAt: { type: 'string', required: true, readOnly: true },
          /**
           * The time of the last write, the domain's (`clock`). A change names it (`commitChange`,
           * `claimChange`) so that what it answers is what it stored: a time stamped here instead would
           * be one the change never sees. A write that names none (the first, a claim given back) gets now.
           */
          updatedAt: {
            type: 'string',
            watch: '*',
            default: () => clock.nowIso(),
            set: (value?: string) => value ?? clock.nowIso(),
          },
        },
        indexes: {
          byOrg: { pk: { field: 'pk', composite: ['orgId'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

export const DUE_KINDS = ['renewal', 'cancellation', 'trial-end', 'trial-reminder', 'grace-end', 'expiry'] as const;
export type DueKind = (typeof DUE_KINDS)[number];

/**
 * What is due on a subscription and when: one marker per (organization, kind), rewritten in
 * the transaction of every subscription change. The schedules read them by kind and date
 * through a sharded index (no Scan, no single hot partition), like the reservation sweep.
 */
const SubscriptionDueEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'subscriptiondue', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          kind: { type: DUE_KINDS, required: true, readOnly: true },
          dueAt: { type: 'string', required: true },
          shard: { type: 'number', required: true },
        },
        indexes: {
          byOrg: { pk: { field: 'pk', composite: ['orgId'] }, sk: { field: 'sk', composite: ['kind'] } },
          byDue: {
            index: 'gsi2',
            pk: { field: 'gsi2pk', composite: ['kind', 'shard'] },
            sk: { field: 'gsi2sk', composite: ['dueAt', 'orgId'] },
          },
        },
      },
      config(),
    ),
);

export const billingDb = {
  get plan() {
    return PlanEntity();
  },
  get subscription() {
    return SubscriptionEntity();
  },
  get due() {
    return SubscriptionDueEntity();
  },
};

export type Plan = EntityItem<ReturnType<typeof PlanEntity>>;
export type Subscription = EntityItem<ReturnType<typeof SubscriptionEntity>>;
export type SubscriptionDue = EntityItem<ReturnType<typeof SubscriptionDueEntity>>;

export const LIMIT_WINDOWS = ['hourly', 'daily', 'monthly'] as const;
export type LimitWindow = (typeof LIMIT_WINDOWS)[number];

/**
 * One counter per subject, resource and window start (`org#…|user#…|client#…`, `chat`,
 * `hour#2026-11-22T10`): many small items, each gone by TTL after its window. No item is
 * shared by the whole platform, so no single key gets every request.
 */
const UsageCounterEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'usagecounter', version: '1', service },
        attributes: {
          subject: { type: 'string', required: true, readOnly: true },
          resource: { type: 'string', required: true, readOnly: true },
          window: { type: 'string', required: true, readOnly: true },
          used: { type: 'number', required: true, default: 0 },
          ttl: { type: 'number' },
        },
        indexes: {
          byWindow: { pk: { field: 'pk', composite: ['subject', 'resource', 'window'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

export const limitsDb = {
  get counter() {
    return UsageCounterEntity();
  },
};
