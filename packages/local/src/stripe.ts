import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { signStripePayload } from '@platform/domain/billing/stripe/signature';
import { decodedOrAsSent } from '@platform/http/route';

/**
 * A stand-in for Stripe on 127.0.0.1, for `npm run dev` and the tests (no network here): the
 * part of Stripe's API the billing adapter calls (Checkout Sessions, subscriptions) and the
 * webhooks Stripe would send, signed with the endpoint secret as Stripe signs them.
 *
 * Opening a session's URL (`GET /checkout/<id>`, what a browser does) pays it at once:
 * `checkout.session.completed`, then `payment_intent.succeeded` (credit pack) or `invoice.paid`
 * (plan) go to the webhook URL. `GET /__local/requests` lists the API calls received, and
 * `GET /__local/subscriptions` the subscriptions as they stand (neither is recorded as a call).
 * `POST /v1/refunds` (`payment_intent`, optional `amount`: the rest by default) refunds a paid
 * charge as an operator would from Stripe's dashboard: `charge.refunded` follows, naming the
 * charge's refunded total.
 *
 * Disputes, which a cardholder's bank opens (Stripe's test cards do it there): `POST
 * /__local/disputes` (`payment_intent`, optional `amount` and `reason`) opens one on a paid
 * charge, `charge.dispute.created` following. Then, as Stripe's API: `POST /v1/disputes/<id>/close`
 * accepts it (lost), and `POST /v1/disputes/<id>` with `evidence[uncategorized_text]` of
 * `winning_evidence` or `losing_evidence` submits evidence that wins or loses it, as in Stripe's
 * test mode (`charge.dispute.updated`, then `charge.dispute.closed`).
 */
export interface LocalStripeOptions {
  apiKey: string;
  webhookSecret: string;
  /** Where webhooks go (read when one is sent: the API may start after this). */
  webhookUrl: () => string | undefined;
  port?: number;
}

export interface LocalStripe {
  url: string;
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;

interface Session {
  id: string;
  mode: 'payment' | 'subscription';
  status: 'open' | 'complete';
  url: string;
  params: URLSearchParams;
  created: number;
}

const rid = (prefix: string) => `${prefix}_local_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);
const MONTH_SECONDS = 30 * 86_400;

/** `metadata[orgId]=…` style parameters under `prefix` → `{ orgId: … }`. */
function metadataOf(params: URLSearchParams, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    const match = key.startsWith(`${prefix}[`) ? /\[([^\]]+)\]$/.exec(key) : null;
    if (match) out[match[1]!] = value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export async function startLocalStripe(options: LocalStripeOptions): Promise<LocalStripe> {
  const sessions = new Map<string, Session>();
  const subscriptions = new Map<string, Json>();
  /** Paid charges by payment intent, for refunds. */
  const charges = new Map<string, { id: string; amount: number; currency: string; refunded: number; dispute?: Json }>();
  const recordCharge = (intent: string, amount: number, currency: string) =>
    charges.set(intent, { id: rid('ch'), amount, currency, refunded: 0 });
  const disputes = new Map<string, Json>();
  const invalid = (res: ServerResponse, status: number, message: string) =>
    send(res, status, { error: { type: 'invalid_request_error', message } });
  const requests: Array<{ method: string; path: string; params: Record<string, string> }> = [];
  /** Results of POSTs sent with an `Idempotency-Key`, by key: the request they answered, and the answer. */
  const idempotent = new Map<string, { request: string; status: number; body: string }>();
  let base = '';

  async function deliver(type: string, object: Json) {
    const url = options.webhookUrl();
    if (!url) return;
    const body = JSON.stringify({ id: rid('evt'), object: 'event', type, created: now(), livemode: false, data: { object } });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(body, options.webhookSecret) },
        body,
      }).catch(() => undefined);
      if (response?.ok) return;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }

  async function pay(session: Session) {
    const p = session.params;
    const amount = Number(p.get('line_items[0][price_data][unit_amount]') ?? 0);
    const currency = p.get('line_items[0][price_data][currency]') ?? 'usd';
    const metadata = metadataOf(p, 'metadata');
    session.status = 'complete';
    if (session.mode === 'payment') {
      const intent = rid('pi');
      recordCharge(intent, amount, currency);
      await deliver('checkout.session.completed', {
        id: session.id,
        object: 'checkout.session',
        mode: 'payment',
        payment_status: 'paid',
        payment_intent: intent,
        amount_total: amount,
        currency,
        metadata,
      });
      await deliver('payment_intent.succeeded', {
        id: intent,
        object: 'payment_intent',
        amount,
        amount_received: amount,
        currency,
        payment_method_types: ['card'],
        metadata: metadataOf(p, 'payment_intent_data[metadata]'),
      });
      return;
    }
    const subscriptionId = rid('sub');
    // The card Checkout saves as the subscription's default, as it does with a subscription's payment settings.
    const paymentMethod = rid('pm');
    const subMetadata = metadataOf(p, 'subscription_data[metadata]');
    const trialEnd = Number(p.get('subscription_data[trial_end]') ?? 0) || undefined;
    const anchor = Number(p.get('subscription_data[billing_cycle_anchor]') ?? 0) || undefined;
    const start = now();
    const end = trialEnd ?? anchor ?? start + MONTH_SECONDS;
    // A trial is charged at its end; a first period shorter than a month is prorated.
    const charged = trialEnd ? 0 : anchor ? Math.round((amount * (anchor - start)) / MONTH_SECONDS) : amount;
    subscriptions.set(subscriptionId, {
      id: subscriptionId,
      object: 'subscription',
      status: trialEnd ? 'trialing' : 'active',
      cancel_at_period_end: false,
      current_period_start: start,
      current_period_end: end,
      default_payment_method: paymentMethod,
      metadata: subMetadata,
      items: { data: [{ id: rid('si'), price: { product: rid('prod'), unit_amount: amount, currency } }] },
    });
    await deliver('checkout.session.completed', {
      id: session.id,
      object: 'checkout.session',
      mode: 'subscription',
      payment_status: 'paid',
      subscription: subscriptionId,
      amount_total: charged,
      currency,
      metadata,
    });
    const intent = charged > 0 ? rid('pi') : null;
    if (intent) recordCharge(intent, charged, currency);
    const invoice = {
      id: rid('in'),
      object: 'invoice',
      subscription: subscriptionId,
      payment_intent: intent,
      default_payment_method: paymentMethod,
      amount_paid: charged,
      amount_due: charged,
      currency,
      subscription_details: { metadata: subMetadata },
      lines: { data: [{ metadata: subMetadata, period: { start, end } }] },
    };
    await deliver('invoice.paid', invoice);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? 'GET';
    const checkout = /^\/checkout\/([^/]+)$/.exec(url.pathname);
    if (checkout) {
      const session = sessions.get(checkout[1]!);
      if (!session) return send(res, 404, '<h1>No such checkout</h1>', 'text/html');
      if (session.status === 'complete') return send(res, 200, '<h1>Already paid (local Stripe)</h1>', 'text/html');
      await pay(session);
      return send(res, 200, `<h1>Paid (local Stripe)</h1><p>Session ${session.id}: the webhooks were sent.</p>`, 'text/html');
    }
    if (method === 'POST' && url.pathname === '/__local/disputes') {
      const params = new URLSearchParams(await readBody(req));
      const intent = params.get('payment_intent') ?? '';
      const charge = charges.get(intent);
      if (!charge) return invalid(res, 404, `No such payment_intent: '${intent}'`);
      if (charge.dispute) return invalid(res, 400, `The charge ${charge.id} is already disputed`);
      const given = params.get('amount');
      const amount = given === null ? charge.amount - charge.refunded : /^\d{1,12}$/.test(given) ? Number(given) : NaN;
      if (!Number.isInteger(amount) || amount < 1 || amount > charge.amount - charge.refunded)
        return invalid(res, 400, `Dispute amount must be 1 to ${charge.amount - charge.refunded}`);
      const dispute: Json = {
        id: rid('du'),
        object: 'dispute',
        charge: charge.id,
        payment_intent: intent,
        amount,
        currency: charge.currency,
        reason: params.get('reason') ?? 'fraudulent',
        status: 'needs_response',
        created: now(),
      };
      charge.dispute = dispute;
      disputes.set(dispute.id as string, dispute);
      await deliver('charge.dispute.created', dispute);
      return send(res, 200, dispute);
    }
    if (url.pathname === '/__local/requests') return send(res, 200, { items: requests });
    if (url.pathname === '/__local/subscriptions') return send(res, 200, { items: [...subscriptions.values()] });
    // As Stripe: the key as a bearer token, or as basic auth's user name (`curl -u sk_…:`).
    const basic = `Basic ${Buffer.from(`${options.apiKey}:`).toString('base64')}`;
    if (req.headers.authorization !== `Bearer ${options.apiKey}` && req.headers.authorization !== basic)
      return send(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    const params = new URLSearchParams(await readBody(req));
    requests.push({ method, path: url.pathname, params: Object.fromEntries(params) });
    // As Stripe: a POST's `Idempotency-Key` answers the first request's result again for the same
    // request, and refuses it for another one (`idempotency_error`).
    const idempotencyKey = method === 'POST' ? req.headers['idempotency-key'] : undefined;
    if (typeof idempotencyKey === 'string') {
      const request = `${url.pathname}?${params}`;
      const first = idempotent.get(idempotencyKey);
      if (first && first.request !== request)
        return send(res, 400, {
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
        });
      if (first) {
        res.setHeader('idempotent-replayed', 'true');
        return send(res, first.status, first.body);
      }
      const end = res.end.bind(res) as (body: string) => ServerResponse;
      res.end = ((body: string) => {
        idempotent.set(idempotencyKey, { request, status: res.statusCode, body });
        return end(body);
      }) as typeof res.end;
    }

    if (method === 'POST' && url.pathname === '/v1/checkout/sessions') {
      const mode = params.get('mode');
      if ((mode !== 'payment' && mode !== 'subscription') || !params.get('line_items[0][price_data][unit_amount]'))
        return send(res, 400, { error: { type: 'invalid_request_error', message: 'mode and line_items are required' } });
      const id = rid('cs');
      const session: Session = { id, mode, status: 'open', url: `${base}/checkout/${id}`, params, created: now() };
      sessions.set(id, session);
      return send(res, 200, {
        id,
        object: 'checkout.session',
        mode,
        url: session.url,
        status: 'open',
        expires_at: now() + 86_400,
      });
    }
    if (method === 'POST' && url.pathname === '/v1/refunds') {
      const intent = params.get('payment_intent') ?? '';
      const charge = charges.get(intent);
      if (!charge)
        return send(res, 404, { error: { type: 'invalid_request_error', message: `No such payment_intent: '${intent}'` } });
      // As Stripe: a disputed charge's money is the bank's to give back, not a refund's.
      if (charge.dispute) return invalid(res, 400, `Charge ${charge.id} has been disputed: it cannot be refunded`);
      const given = params.get('amount');
      const amount = given === null ? charge.amount - charge.refunded : /^\d{1,12}$/.test(given) ? Number(given) : NaN;
      if (!Number.isInteger(amount) || amount < 1 || amount > charge.amount - charge.refunded)
        return send(res, 400, {
          error: { type: 'invalid_request_error', message: `Refund amount must be 1 to ${charge.amount - charge.refunded}` },
        });
      charge.refunded += amount;
      const refund = { id: rid('re'), object: 'refund', amount, charge: charge.id, payment_intent: intent, status: 'succeeded' };
      await deliver('charge.refunded', {
        id: charge.id,
        object: 'charge',
        payment_intent: intent,
        amount: charge.amount,
        amount_refunded: charge.refunded,
        currency: charge.currency,
        refunded: charge.refunded === charge.amount,
      });
      return send(res, 200, refund);
    }
    const disputeCall = /^\/v1\/disputes\/([^/]+)(\/close)?$/.exec(url.pathname);
    if (method === 'POST' && disputeCall) {
      const dispute = disputes.get(decodedOrAsSent(disputeCall[1]!));
      if (!dispute) return invalid(res, 404, `No such dispute: '${disputeCall[1]}'`);
      if (['won', 'lost'].includes(dispute.status as string))
        return invalid(res, 400, `This dispute is already closed (${dispute.status as string})`);
      const evidence = params.get('evidence[uncategorized_text]');
      const outcome = disputeCall[2] ? 'lost' : { winning_evidence: 'won', losing_evidence: 'lost' }[evidence ?? ''];
      if (!disputeCall[2]) {
        dispute.status = 'under_review';
        await deliver('charge.dispute.updated', { ...dispute });
      }
      if (outcome) {
        dispute.status = outcome;
        await deliver('charge.dispute.closed', { ...dispute });
      }
      return send(res, 200, dispute);
    }
    const subscription = /^\/v1\/subscriptions\/([^/]+)$/.exec(url.pathname);
    if (subscription) {
      const sub = subscriptions.get(decodedOrAsSent(subscription[1]!));
      if (!sub) return send(res, 404, { error: { type: 'invalid_request_error', message: 'No such subscription' } });
      if (method === 'DELETE') sub.status = 'canceled';
      if (method === 'POST') {
        if (params.has('cancel_at_period_end')) sub.cancel_at_period_end = params.get('cancel_at_period_end') === 'true';
        const amount = params.get('items[0][price_data][unit_amount]');
        if (amount) {
          const item = (sub.items as { data: Array<{ price: Json }> }).data[0]!;
          item.price = { ...item.price, unit_amount: Number(amount) };
        }
      }
      return send(res, 200, sub);
    }
    return send(res, 404, {
      error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method} ${url.pathname})` },
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: { message: String(error) } }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: base,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
