import * as z from 'zod';
import { isoDateTime, page, pageQuery } from '../shared/schemas.ts';
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
  .extend({ type: z.enum(TRANSACTION_TYPES).optional(), from: isoDateTime.optional(), to: isoDateTime.optional() })
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
