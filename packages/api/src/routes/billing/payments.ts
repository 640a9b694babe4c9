import { defineRoute } from '@platform/http/route';
import { orgParams } from '@platform/domain/identity/schemas/common';
import { pageQuery, wholeListQuery } from '@platform/domain/shared/schemas';
import {
  checkoutBody,
  checkoutResponse,
  creditPacksList,
  manualPaymentBody,
  paymentResponse,
  paymentsPage,
  webhookResponse,
} from '@platform/domain/billing/schemas';

/** Payments: checkout, the Stripe webhook, payments recorded by hand, the list. */
const tag = 'Billing';

export const listCreditPacks = defineRoute({
  id: 'listCreditPacks',
  method: 'GET',
  path: '/v1/credit-packs',
  handler: 'billing/list-credit-packs',
  auth: 'public',
  tag,
  summary: 'The credit packs on sale: credits bought once, on top of the plan',
  schemas: { query: wholeListQuery(), response: creditPacksList },
});
export const createCheckout = defineRoute({
  id: 'createCheckout',
  method: 'POST',
  path: '/v1/orgs/{orgId}/checkout',
  handler: 'billing/create-checkout',
  auth: 'principal',
  permission: 'billing:manage',
  callsStripe: true,
  tag,
  summary:
    'A Stripe checkout for a plan or a credit pack: answers the payment page URL; the purchase applies when Stripe confirms it',
  successStatus: 201,
  idempotent: true,
  // 502: Stripe failed or refused.
  errors: [502],
  schemas: { params: orgParams, body: checkoutBody, response: checkoutResponse },
});
export const listPayments = defineRoute({
  id: 'listPayments',
  method: 'GET',
  path: '/v1/orgs/{orgId}/payments',
  handler: 'billing/list-payments',
  auth: 'principal',
  permission: 'billing:read',
  tag,
  summary: 'The organization’s payments, newest first',
  schemas: { params: orgParams, query: pageQuery, response: paymentsPage },
});
export const recordManualPayment = defineRoute({
  id: 'recordManualPayment',
  method: 'POST',
  path: '/v1/admin/orgs/{orgId}/payments',
  handler: 'billing/record-manual-payment',
  auth: 'admin',
  // A plan paid by hand on an organization billed by Stripe cancels its Stripe subscription first.
  callsStripe: true,
  tag,
  summary:
    'Platform admins: record a PayPal or Odoo payment for a plan period or a credit pack (applied as a webhook payment, audited; a plan billed by Stripe until then is cancelled there)',
  successStatus: 201,
  replayStatus: 200,
  idempotent: true,
  // 502: Stripe failed or refused to cancel the subscription the payment takes over from.
  errors: [502],
  schemas: { params: orgParams, body: manualPaymentBody, response: paymentResponse },
});
export const stripeWebhook = defineRoute({
  id: 'stripeWebhook',
  method: 'POST',
  path: '/v1/webhooks/stripe',
  handler: 'billing/stripe-webhook',
  auth: 'public',
  callsStripe: true,
  tag,
  summary:
    'Stripe events, verified by their Stripe-Signature (HMAC-SHA256 of the raw body, 5 minutes tolerance): applied once each, in any order; forged or old ones get 400',
  // The body is read raw by the handler: the signature covers its exact bytes.
  errors: [400, 404, 409],
  schemas: { response: webhookResponse },
});
