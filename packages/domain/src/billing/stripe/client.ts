import { UpstreamError } from '../../shared/errors.ts';
import { stripeConfig } from './config.ts';

/**
 * The payment gateway, Stripe behind a small adapter: the few calls billing makes, on
 * Stripe's HTTP API with `fetch` (form-encoded requests, JSON answers). No SDK: the calls are
 * few and the shapes we read are narrow. `STRIPE_API_BASE` points it at the local Stripe.
 */
export interface CheckoutRequest {
  orgId: string;
  kind: 'plan' | 'credit-pack';
  /** What the buyer sees on the payment page. */
  name: string;
  amountMinor: number;
  currency: string;
  planId?: string;
  packId?: string;
  successUrl: string;
  cancelUrl: string;
  /** A plan bought during its trial is charged from the trial's end. */
  trialEnd?: string;
  /** A plan bought mid-period renews with our period: Stripe prorates the first charge. */
  billingCycleAnchor?: string;
  idempotencyKey?: string;
}

export interface CheckoutSession {
  sessionId: string;
  url: string;
  expiresAt?: string;
}

export interface PlanPrice {
  planId: string;
  name: string;
  amountMinor: number;
  currency: string;
}

/** What a subscription at the provider is to become: the price it charges and whether it ends at the period end. */
export interface SubscriptionTerms {
  /** `prorate` bills the difference at once (an upgrade), otherwise the price applies from the next period. */
  price?: { plan: PlanPrice; prorate: boolean };
  cancelAtPeriodEnd?: boolean;
}

export interface PaymentGateway {
  createCheckoutSession(request: CheckoutRequest): Promise<CheckoutSession>;
  /** Cancel at the period end (true) or take that back (false). */
  setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean): Promise<void>;
  /** Charge another price from now on; `prorate` bills the difference at once (an upgrade), otherwise from the next period. */
  changePrice(subscriptionId: string, price: PlanPrice, prorate: boolean): Promise<void>;
  /** Both at once, in one update of the provider's subscription (so it never takes one and not the other). */
  updateSubscription(subscriptionId: string, terms: SubscriptionTerms): Promise<void>;
  /**
   * Ends the provider's subscription now: nothing more is charged. Retrying it is harmless. With
   * `ifExists`, a subscription Stripe does not have (404) counts as cancelled.
   */
  cancelSubscription(subscriptionId: string, options?: { ifExists?: boolean }): Promise<void>;
}

type Params = Record<string, string | number | boolean | undefined>;

/** Stripe's form encoding of nested parameters: `a[b][0][c]=…`. */
export function formEncode(params: Params): string {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) body.append(key, String(value));
  return body.toString();
}

const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

async function call<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  params?: Params,
  idempotencyKey?: string,
  tolerated: readonly number[] = [],
): Promise<T> {
  const { apiKey, apiBase } = await stripeConfig();
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (params) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  let response: Response;
  try {
    response = await fetch(`${apiBase}${path}`, {
      method,
      headers,
      body: params ? formEncode(params) : undefined,
      signal: AbortSignal.timeout(8_000),
    });
  } catch {
    throw new UpstreamError('The payment provider could not be reached; try again');
  }
  const body = (await response.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (!response.ok && !tolerated.includes(response.status))
    throw new UpstreamError(`The payment provider refused: ${body.error?.message ?? response.status}`);
  return body;
}

function lineItem(request: Pick<CheckoutRequest, 'name' | 'amountMinor' | 'currency'>, recurring: boolean): Params {
  return {
    'line_items[0][quantity]': 1,
    'line_items[0][price_data][currency]': request.currency.toLowerCase(),
    'line_items[0][price_data][unit_amount]': request.amountMinor,
    'line_items[0][price_data][product_data][name]': request.name,
    ...(recurring ? { 'line_items[0][price_data][recurring][interval]': 'month' } : {}),
  };
}

export const paymentGateway: PaymentGateway = {
  async createCheckoutSession(request) {
    const metadata: Params = {
      'metadata[orgId]': request.orgId,
      'metadata[kind]': request.kind,
      'metadata[planId]': request.planId,
      'metadata[packId]': request.packId,
      // The monthly price a plan is bought at: the subscription keeps it (grandfathered) when the catalogue's changes.
      'metadata[priceMinor]': request.kind === 'plan' ? request.amountMinor : undefined,
      // The cycle Stripe is given (below): ours follows it, whenever the checkout completes.
      'metadata[billingCycleAnchor]': request.kind === 'plan' && !request.trialEnd ? request.billingCycleAnchor : undefined,
    };
    const params: Params =
      request.kind === 'plan'
        ? {
            mode: 'subscription',
            ...lineItem(request, true),
            // The subscription's own metadata reaches its invoices and subscription events.
            'subscription_data[metadata][orgId]': request.orgId,
            'subscription_data[metadata][planId]': request.planId,
            ...(request.trialEnd ? { 'subscription_data[trial_end]': epoch(request.trialEnd) } : {}),
            ...(!request.trialEnd && request.billingCycleAnchor
              ? {
                  'subscription_data[billing_cycle_anchor]': epoch(request.billingCycleAnchor),
                  'subscription_data[proration_behavior]': 'create_prorations',
                }
              : {}),
          }
        : {
            mode: 'payment',
            ...lineItem(request, false),
            // The payment intent carries what it pays for, so payment_intent.succeeded alone can apply it.
            'payment_intent_data[metadata][orgId]': request.orgId,
            'payment_intent_data[metadata][kind]': request.kind,
            'payment_intent_data[metadata][packId]': request.packId,
          };
    const session = await call<{ id: string; url: string; expires_at?: number }>(
      'POST',
      '/v1/checkout/sessions',
      {
        ...params,
        ...metadata,
        client_reference_id: request.orgId,
        success_url: request.successUrl,
        cancel_url: request.cancelUrl,
      },
      request.idempotencyKey,
    );
    return {
      sessionId: session.id,
      url: session.url,
      ...(session.expires_at ? { expiresAt: new Date(session.expires_at * 1000).toISOString() } : {}),
    };
  },

  async setCancelAtPeriodEnd(subscriptionId, cancel) {
    await paymentGateway.updateSubscription(subscriptionId, { cancelAtPeriodEnd: cancel });
  },

  async changePrice(subscriptionId, price, prorate) {
    await paymentGateway.updateSubscription(subscriptionId, { price: { plan: price, prorate } });
  },

  async updateSubscription(subscriptionId, { price, cancelAtPeriodEnd }) {
    const path = `/v1/subscriptions/${encodeURIComponent(subscriptionId)}`;
    let params: Params = { cancel_at_period_end: cancelAtPeriodEnd };
    if (price) {
      // The item to reprice is the subscription's one item (its id is needed to change it).
      const current = await call<{ items: { data: Array<{ id: string; price: { product: string } }> } }>('GET', path);
      const item = current.items.data[0];
      if (!item) throw new UpstreamError('The provider subscription has no item to change');
      params = {
        ...params,
        'items[0][id]': item.id,
        'items[0][price_data][currency]': price.plan.currency.toLowerCase(),
        'items[0][price_data][unit_amount]': price.plan.amountMinor,
        'items[0][price_data][product]': item.price.product,
        'items[0][price_data][recurring][interval]': 'month',
        'metadata[planId]': price.plan.planId,
        proration_behavior: price.prorate ? 'always_invoice' : 'none',
      };
    }
    await call('POST', path, params);
  },

  async cancelSubscription(subscriptionId, options) {
    // One idempotency key per subscription: a retry (the first answer lost, or the deletion that
    // called it refused afterwards) gets Stripe's first answer again instead of an error.
    const path = `/v1/subscriptions/${encodeURIComponent(subscriptionId)}`;
    await call('DELETE', path, undefined, `cancel-${subscriptionId}`, options?.ifExists ? [404] : []);
  },
};
