import * as z from 'zod';
import { page, pageQuery, utcDateTime } from '../shared/schemas.ts';
import { TRANSACTION_TYPES } from './entities.ts';

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
  metadata: z.unknown().optional(),
  syncedAt: z.string().optional(),
  createdAt: z.string(),
});
export const creditTransactionsPage = page(creditTransactionResponse);

export const creditTransactionsQuery = pageQuery
  .extend({ type: z.enum(TRANSACTION_TYPES).optional(), from: utcDateTime.optional(), to: utcDateTime.optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: '`from` must not be after `to`', path: ['from'] });

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

const limitsSchema = z.record(
  z.string().max(40),
  z
    .object({
      hourly: z.number().int().min(0).optional(),
      daily: z.number().int().min(0).optional(),
      monthly: z.number().int().min(0).optional(),
    })
    .strict(),
);

export const planResponse = z.object({
  planId: z.string(),
  name: z.string(),
  description: z.string().optional(),
  monthlyCredits: z.number(),
  priceMinor: z.number().describe('Price per month in minor units (cents) of `currency`'),
  currency: z.string(),
  trialDays: z.number(),
  limits: limitsSchema.optional(),
  isPublic: z.boolean().optional(),
  sortOrder: z.number().optional(),
  updatedAt: z.string().optional(),
});
export const plansList = z.object({ items: z.array(planResponse) });
export const planParams = z.object({ planId: z.string().regex(/^[a-z][a-z0-9-]{1,31}$/, 'A lower-case plan id') });
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
  status: z.enum(['Active', 'Trial', 'Suspended', 'Cancelled', 'Expired']),
  currentPeriodStart: z.string(),
  currentPeriodEnd: z.string(),
  trialStart: z.string().optional(),
  trialEnd: z.string().optional(),
  cancelAtPeriodEnd: z.boolean().optional(),
  cancelledAt: z.string().optional(),
  pendingPlanId: z.string().optional(),
  paymentProvider: z.enum(['Stripe', 'PayPal', 'OdooManual']).optional(),
  createdAt: z.string(),
});

const windowLimit = z.number().int().min(0).max(1e9).optional();
export const limitOverrideBody = z
  .object({
    subject: z
      .string()
      .regex(/^(org|user#[0-9a-f-]{36}|client#ak_[0-9a-z]{26})$/, '`org`, `user#<userId>` or `client#<clientId>`'),
    resource: z.string().regex(/^[a-z][a-z0-9_-]{1,39}$/, 'A resource or agent type like `chat` or `api`'),
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
