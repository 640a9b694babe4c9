import { type EntityItem } from 'electrodb';
import { Entity, SERVICE, entityConfig, lazy } from '../shared/dynamo.ts';
import { PAYMENT_STATUSES, PAYMENT_PURPOSES } from './enums.ts';
export { PAYMENT_STATUSES, PAYMENT_PURPOSES, type PaymentStatus, type PaymentPurpose } from './enums.ts';
import { PAYMENT_PROVIDERS } from './entities.ts';

/**
 * Payments (DOMAIN.md §2, Payment) and the provider events that bring them. A payment is
 * keyed by its payment intent id, platform-wide, so it is recorded once however often (and
 * in whatever order) the provider tells us; an event is keyed by its id, so a replay applies
 * nothing twice.
 */
const service = SERVICE;
const config = entityConfig;

const PaymentEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'payment', version: '1', service },
        attributes: {
          /** Stripe's `pi_…`; `paypal:<capture id>` or `odoo:<invoice>` for payments recorded by hand. Case-sensitive. */
          paymentIntentId: { type: 'string', required: true, readOnly: true },
          paymentId: { type: 'string', required: true, readOnly: true },
          orgId: { type: 'string', required: true, readOnly: true },
          provider: { type: PAYMENT_PROVIDERS, required: true, readOnly: true },
          /** In minor units (cents) of `currency`. */
          amountMinor: { type: 'number', required: true },
          currency: { type: 'string', required: true },
          status: { type: PAYMENT_STATUSES, required: true },
          /** `card`, `paypal`, `bank_transfer`, … as the provider names it. */
          method: { type: 'string' },
          purpose: { type: PAYMENT_PURPOSES, required: true, readOnly: true },
          planId: { type: 'string' },
          packId: { type: 'string' },
          credits: { type: 'number' },
          periodStart: { type: 'string' },
          periodEnd: { type: 'string' },
          invoiceId: { type: 'string' },
          checkoutSessionId: { type: 'string' },
          providerSubscriptionId: { type: 'string' },
          odooSaleOrderId: { type: 'string' },
          failureMessage: { type: 'string' },
          /** Refunded at the provider so far, in minor units of `currency` (refunds.ts). */
          refundedMinor: { type: 'number' },
          /** A credit pack's credits taken back by its refunds so far. */
          creditsReclaimed: { type: 'number' },
          refundedAt: { type: 'string' },
          /** Its dispute at the provider, as last reported (refunds.ts): Stripe's `du_…`, status, amount and reason. */
          disputeId: { type: 'string' },
          disputeStatus: { type: 'string' },
          disputedMinor: { type: 'number' },
          disputeReason: { type: 'string' },
          disputedAt: { type: 'string' },
          /** The provider's `created` of the dispute event last applied, epoch seconds: an older one is stale. */
          disputeEventAt: { type: 'number' },
          /** A platform admin who recorded it by hand. */
          recordedBy: { type: 'string' },
          createdAt: { type: 'string', required: true, readOnly: true },
          updatedAt: { type: 'string', required: true },
        },
        indexes: {
          byIntent: { pk: { field: 'pk', composite: ['paymentIntentId'], casing: 'none' }, sk: { field: 'sk', composite: [] } },
          /** An organization's payments, newest first. */
          byOrg: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['orgId'] },
            sk: { field: 'gsi1sk', composite: ['createdAt', 'paymentId'] },
          },
        },
      },
      config(),
    ),
);

/** A provider event applied (or judged irrelevant): kept a while so a redelivery is recognised. */
const ProviderEventEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'providerevent', version: '1', service },
        attributes: {
          provider: { type: PAYMENT_PROVIDERS, required: true, readOnly: true },
          eventId: { type: 'string', required: true, readOnly: true },
          type: { type: 'string', required: true },
          orgId: { type: 'string' },
          /** The provider's `created`, epoch seconds. */
          created: { type: 'number', required: true },
          outcome: { type: 'string', required: true },
          receivedAt: { type: 'string', required: true },
          ttl: { type: 'number', required: true },
        },
        indexes: {
          byId: { pk: { field: 'pk', composite: ['provider', 'eventId'], casing: 'none' }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

export const paymentDb = {
  get payment() {
    return PaymentEntity();
  },
  get event() {
    return ProviderEventEntity();
  },
};

export type Payment = EntityItem<ReturnType<typeof PaymentEntity>>;
export type ProviderEvent = EntityItem<ReturnType<typeof ProviderEventEntity>>;
