/**
 * The billing enumerations that both the entities store and the API's zod schemas describe.
 * Apart from the entities so that a schema (which a handler loads at a cold start) does not
 * load ElectroDB and the DynamoDB client with them.
 */
export const TRANSACTION_TYPES = ['grant', 'purchase', 'debit', 'settle', 'refund', 'adjustment'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];
export const SUBSCRIPTION_STATUSES = ['Active', 'Trial', 'Suspended', 'Cancelled', 'Expired'] as const;
export const PAYMENT_PROVIDERS = ['Stripe', 'PayPal', 'OdooManual'] as const;
export const PAYMENT_STATUSES = ['succeeded', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export const PAYMENT_PURPOSES = ['plan', 'credit-pack'] as const;
export type PaymentPurpose = (typeof PAYMENT_PURPOSES)[number];
/** A provider's dispute in one of these statuses is closed for good (Stripe's; an inquiry closes as `warning_closed`). */
export const CLOSED_DISPUTE_STATUSES: readonly string[] = ['won', 'lost', 'warning_closed', 'prevented'];
