import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../../shared/errors.ts';

/**
 * Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where
 * each v1 is HMAC-SHA256 of `${t}.${rawBody}` under the endpoint's secret (several while a
 * secret is being rolled). The body must be the bytes Stripe sent, unparsed. A timestamp
 * more than the tolerance away from now is refused, so a captured request cannot be replayed
 * later; signatures are compared in constant time.
 */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const refused = (detail: string) =>
  new ValidationError(`The Stripe-Signature header is not valid: ${detail}`, [
    { path: 'headers.stripe-signature', message: detail },
  ]);

const hmac = (secret: string, payload: string) => createHmac('sha256', secret).update(payload, 'utf8').digest();

export function parseSignatureHeader(header: string | undefined): { timestamp: number; signatures: string[] } {
  if (!header) throw refused('missing');
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (key === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value) signatures.push(value);
  }
  if (timestamp === undefined) throw refused('no timestamp');
  if (!signatures.length) throw refused('no v1 signature');
  return { timestamp, signatures };
}

/** Throws a 400 unless one v1 signature of the header signs this body with this secret, recently. */
export function verifyStripeSignature(
  rawBody: string,
  header: string | undefined,
  secret: string,
  now = Date.now(),
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): { timestamp: number } {
  const { timestamp, signatures } = parseSignatureHeader(header);
  if (Math.abs(Math.floor(now / 1000) - timestamp) > toleranceSeconds) throw refused('the timestamp is outside the tolerance');
  const expected = hmac(secret, `${timestamp}.${rawBody}`);
  const matches = signatures.some((candidate) => {
    if (!/^[0-9a-f]+$/i.test(candidate) || candidate.length !== expected.length * 2) return false;
    return timingSafeEqual(Buffer.from(candidate, 'hex'), expected);
  });
  if (!matches) throw refused('no signature matches the body');
  return { timestamp };
}

/** Signs a body as Stripe does (the local Stripe and tests send webhooks with it). */
export function signStripePayload(rawBody: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmac(secret, `${timestamp}.${rawBody}`).toString('hex')}`;
}
