/**
 * The notifications enumerations that both the entities store and the API's zod schemas describe.
 * Apart from the entities so that a schema (which a handler loads at a cold start) does not
 * load ElectroDB and the DynamoDB client with them.
 */
export const NOTIFICATION_TYPES = [
  'low-balance',
  'payment-received',
  'payment-failed',
  'payment-refunded',
  'payment-disputed',
  'trial-ending',
  'subscription-changed',
  'invitation',
  'system',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
