import * as z from 'zod';
import { storableKey } from '../shared/json-value.ts';
import { instantAfter, page, pageQuery, sortableDateTime, utcCeil } from '../shared/schemas.ts';
import { PAYMENT_PROVIDERS, PAYMENT_PURPOSES, PAYMENT_STATUSES, SUBSCRIPTION_STATUSES, TRANSACTION_TYPES } from './enums.ts';

/** Credits: the balance, the ledger, and admin adjustments. */
export const balanceResponse = z.object({
  orgId: z.string(),
  available: z.number().describe('Credits that can be spent now'),
  reserved: z.number().describe('Credits held for work in flight'),
  balance: z.number().describe('available + reserved; equals the sum of the ledger'),
});

export const creditTransactionResponse = z.object({
  transactionId: z.string(),
  orgId: z.string(),
  type: z.enum(TRANSACTION_TYPES),
  amount: z.number(),
  description: z.string().optional(),
  actorId: z.string().optional(),
  reservationId: z.string().optional(),
  generationRequestId: z.string().optional(),
  apiCallId: z.string().optional(),
  invoiceId: z.string().optional(),
  refundOf: z.string().optional().describe('On a refund: the transactionId of the charge it gives back'),
  refunded: z.number().optional().describe('On a charge: the credits its refunds gave back so far'),
  metadata: z.unknown().optional(),
  syncedAt: z.string().optional(),
  createdAt: z.string(),
});
export const creditTransactionsPage = page(creditTransactionResponse);

/**
 * The ledger's range, both ends inclusive, compared as sent (to the nanosecond), then to the
 * millisecond rows hold: `from` rounded up (rounded down, it would take a row before it), `to`
 * rounded down (its exclusive key bound is the millisecond after, `exclusiveEnd`).
 */
export const creditTransactionsQuery = pageQuery
  .extend({ type: z.enum(TRANSACTION_TYPES).optional(), from: sortableDateTime.optional(), to: sortableDateTime.optional() })
  .refine((q) => !q.from || !q.to || !instantAfter(q.from, q.to), { message: '`from` must not be after `to`', path: ['from'] })
  .transform((q) => ({
    ...q,
    from: q.from === undefined ? undefined : utcCeil(q.from),
    to: q.to === undefined ? undefined : new Date(q.to).toISOString(),
  }));

export const adjustmentBody = z
  .object({
    amount: z
      .number()
      .int()
      .refine((n) => n !== 0, 'Not zero')
      .refine((n) => Math.abs(n) <= 1e9, 'At most a billion credits at once')
      .describe('Signed: positive adds credits, negative takes them (never below zero)'),
    reason: z.string().trim().min(3).max(500),
  })
  .strict();

const RESOURCE_NAME = 'A resource or agent type like `chat` or `api`';
/**
 * A limited resource or agent type (`chat`, `api`, …), as plans and overrides name it: one rule
 * for both, so a plan's limit is always one an override can name (and never an empty name or
 * `constructor`, which DynamoDB cannot store as a map key).
 */
const resourceName = storableKey(z.string().regex(/^[a-z][a-z0-9_-]{1,39}$/, RESOURCE_NAME));

const planWindows = z
  .object({
    hourly: z.number().int().min(0).optional(),
    daily: z.number().int().min(0).optional(),
    monthly: z.number().int().min(0).optional(),
  })
  .strict();
const limitsSchema = z.record(resourceName, planWindows, {
  // A key's own message: zod's default ("Invalid key in record") names no rule.
  error: (issue) => (issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? RESOURCE_NAME) : undefined),
});

export const planResponse = z.object({
  planId: z.string(),
  name: z.string(),
  description: z.string().optional(),
  monthlyCredits: z.number(),
  priceMinor: z.number().describe('Price per month in minor units (cents) of `currency`'),
  currency: z.string(),
  trialDays: z.number(),
  // As stored: a plan saved before names were checked still reads.
  limits: z.record(z.string(), planWindows).optional(),
  isPublic: z.boolean().optional(),
  sortOrder: z.number().optional(),
  version: z.number().optional().describe('Moved on by each edit; absent while the plan is the default in code'),
  updatedAt: z.string().optional(),
});
export const plansList = z.object({ items: z.array(planResponse) });
/** A plan id: a lower-case name that never finds Object.prototype's `constructor` in the catalogue of defaults. */
const planIdField = storableKey(z.string().regex(/^[a-z][a-z0-9-]{1,31}$/, 'A lower-case plan id'));
export const planParams = z.object({ planId: planIdField });
export const savePlanBody = z
  .object({
    name: z.string().trim().min(1).max(60).optional(),
    description: z.string().max(500).optional(),
    monthlyCredits: z.number().int().min(0).max(1e9).optional(),
    priceMinor: z.number().int().min(0).max(1e9).optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'An ISO 4217 code like USD')
      .optional(),
    trialDays: z.number().int().min(0).max(365).optional(),
    limits: limitsSchema.optional(),
    isPublic: z.boolean().optional(),
    sortOrder: z.number().int().min(0).max(1000).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');

export const subscriptionResponse = z.object({
  orgId: z.string(),
  planId: z.string(),
  effectivePlanId: z
    .string()
    .describe('The plan whose limits and credits apply now: the plan while Active or Trial, Free otherwise'),
  status: z.enum(SUBSCRIPTION_STATUSES),
  currentPeriodStart: z.string(),
  currentPeriodEnd: z.string(),
  billingAnchor: z
    .string()
    .optional()
    .describe('Where the monthly cycle started: each period ends on its day of the month, or the month’s last day when shorter'),
  trialStart: z.string().optional(),
  trialEnd: z.string().optional(),
  cancelAtPeriodEnd: z.boolean().optional(),
  cancelledAt: z.string().optional(),
  pendingPlanId: z.string().optional().describe('A cheaper plan that starts at the end of the period'),
  price: z
    .object({ planId: z.string(), amountMinor: z.number().int(), currency: z.string() })
    .optional()
    .describe('What the plan is charged a month, as bought: kept when the catalogue’s price changes, until the plan changes'),
  contractPlanId: z
    .string()
    .optional()
    .describe('The plan a platform admin put the subscription on by contract: only they change or end it while on it'),
  paymentProvider: z.enum(PAYMENT_PROVIDERS).optional(),
  providerSubscriptionId: z.string().optional().describe('The subscription’s id at its payment provider (Stripe’s `sub_…`)'),
  paymentMethodId: z
    .string()
    .optional()
    .describe('The id of the payment method the provider charges (Stripe’s `pm_…`): a reference, not card details'),
  paidThrough: z.string().optional().describe('Paid plans: the end of the last period paid for'),
  graceUntil: z.string().optional().describe('A payment is due: unpaid by then, the subscription is suspended'),
  suspendedAt: z.string().optional(),
  odooSaleOrderId: z.string().optional(),
  version: z.number().optional(),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
});

const packIdField = z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, 'A credit pack id');

export const changePlanBody = z.object({ planId: planIdField }).strict();

export const checkoutBody = z
  .object({ planId: planIdField.optional(), packId: packIdField.optional() })
  .strict()
  .refine((b) => (b.planId === undefined) !== (b.packId === undefined), 'Send a planId or a packId, not both');

export const checkoutResponse = z.object({
  sessionId: z.string(),
  url: z.string().describe('The payment page to open'),
  expiresAt: z.string().optional(),
  amountMinor: z.number(),
  currency: z.string(),
});

export const creditPackResponse = z.object({
  packId: z.string(),
  name: z.string(),
  credits: z.number(),
  priceMinor: z.number(),
  currency: z.string(),
});
export const creditPacksList = z.object({ items: z.array(creditPackResponse) });

export const paymentResponse = z.object({
  paymentId: z.string(),
  paymentIntentId: z.string(),
  orgId: z.string(),
  provider: z.enum(PAYMENT_PROVIDERS),
  amountMinor: z.number().describe('In minor units (cents) of `currency`'),
  currency: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  method: z.string().optional(),
  purpose: z.enum(PAYMENT_PURPOSES).describe('What it paid for: a plan period or a credit pack'),
  planId: z.string().optional(),
  packId: z.string().optional(),
  periodStart: z.string().optional(),
  periodEnd: z.string().optional(),
  invoiceId: z.string().optional(),
  odooSaleOrderId: z.string().optional(),
  failureMessage: z.string().optional(),
  refundedMinor: z.number().optional().describe('Refunded at the provider so far, in minor units of `currency`'),
  creditsReclaimed: z
    .number()
    .optional()
    .describe(
      'A credit pack’s credits taken back by its refunds and a lost dispute, in proportion to the money given back and as far as the organization still had them',
    ),
  refundedAt: z.string().optional().describe('When the latest refund was recorded'),
  disputeId: z.string().optional().describe('The provider’s dispute of the payment, when the cardholder’s bank disputed it'),
  disputeStatus: z
    .string()
    .optional()
    .describe(
      'The dispute as the provider last reported it: needs_response, under_review, … while open; won, lost or warning_closed once closed. A lost dispute gives its money back, and takes a credit pack’s credits back, as a refund does',
    ),
  disputedMinor: z.number().optional().describe('The amount disputed, in minor units of `currency`'),
  disputeReason: z.string().optional().describe('The bank’s reason, as the provider names it (fraudulent, duplicate, …)'),
  disputedAt: z.string().optional().describe('When the dispute was first recorded'),
  recordedBy: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const paymentsPage = page(paymentResponse);

export const manualPaymentBody = z
  .object({
    provider: z.enum(['PayPal', 'OdooManual']),
    reference: z
      .string()
      .regex(/^[A-Za-z0-9_.:/-]{3,100}$/, 'The PayPal capture id or the Odoo invoice number')
      .describe(
        'The provider’s id of the payment: a second payment with the same reference and terms is the same payment; with another amount, currency, pack or plan, a 409',
      ),
    amountMinor: z.number().int().min(1).max(1e9),
    currency: z.string().regex(/^[A-Z]{3}$/, 'An ISO 4217 code like USD'),
    method: z.string().trim().min(1).max(40).optional(),
    odooSaleOrderId: z
      .string()
      .regex(/^[A-Za-z0-9_./-]{1,64}$/, 'An Odoo sale order reference')
      .optional(),
    paymentMethodId: z
      .string()
      .regex(/^[A-Za-z0-9_.:/-]{3,255}$/, 'The provider’s reference of the payment method')
      .optional()
      .describe('With a planId: the payment method the provider charges for the plan, shown on the subscription'),
    planId: planIdField.optional(),
    packId: packIdField.optional(),
  })
  .strict()
  .refine((b) => (b.planId === undefined) !== (b.packId === undefined), 'Name the planId or the packId it paid for')
  .refine((b) => b.paymentMethodId === undefined || b.planId !== undefined, {
    message: 'Only a plan’s payment names a payment method: a credit pack changes no subscription',
    path: ['paymentMethodId'],
  });

export const webhookResponse = z.object({
  received: z.literal(true),
  eventId: z.string(),
  outcome: z
    .string()
    .describe(
      'applied, duplicate-event, payment-already-recorded, payment-of-another-organization, stale, no-subscription, unknown-organization, unknown-credit-pack, unknown-payment (a refund or dispute of a payment not recorded here) or ignored',
    ),
  ignored: z.string().optional().describe('Why the event changed nothing, when it was acknowledged without effect'),
});

const windowLimit = z.number().int().min(0).max(1e9).optional();
export const limitOverrideBody = z
  .object({
    subject: z
      .string()
      .regex(/^(org|user#[0-9a-f-]{36}|client#ak_[0-9a-z]{26})$/, '`org`, `user#<userId>` or `client#<clientId>`'),
    resource: resourceName,
    hourly: windowLimit,
    daily: windowLimit,
    monthly: windowLimit,
  })
  .strict();

export const limitsResponse = z.object({
  items: z.array(
    z.object({
      subject: z.string(),
      resource: z.string(),
      window: z.enum(['hourly', 'daily', 'monthly']),
      limit: z.number(),
      used: z.number(),
      remaining: z.number(),
      resetsAt: z.string(),
      source: z.enum(['plan', 'override']),
    }),
  ),
});
