import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_TOLERANCE_SECONDS, signStripePayload, verifyStripeSignature } from './signature.ts';

const secret = 'whsec_test_secret';
const body = JSON.stringify({ id: 'evt_1', type: 'invoice.paid', data: { object: {} } });
const now = Date.parse('2026-03-01T12:00:00Z');
const t = Math.floor(now / 1000);
const v1 = (payload: string, key = secret) => createHmac('sha256', key).update(payload).digest('hex');

describe('the Stripe-Signature verifier', () => {
  it('accepts a body signed with the secret within the tolerance', () => {
    expect(verifyStripeSignature(body, `t=${t},v1=${v1(`${t}.${body}`)}`, secret, now)).toEqual({ timestamp: t });
    expect(verifyStripeSignature(body, signStripePayload(body, secret, t - SIGNATURE_TOLERANCE_SECONDS), secret, now)).toEqual({
      timestamp: t - SIGNATURE_TOLERANCE_SECONDS,
    });
  });

  it('accepts any one of several v1 signatures (a secret being rolled), ignoring v0 and unknown parts', () => {
    const header = `t=${t},v0=abc,v1=${v1(`${t}.${body}`, 'whsec_old')},v1=${v1(`${t}.${body}`)},x=1`;
    expect(verifyStripeSignature(body, header, secret, now)).toEqual({ timestamp: t });
  });

  it('refuses a forged signature, another secret, or a body changed after signing', () => {
    expect(() => verifyStripeSignature(body, `t=${t},v1=${'0'.repeat(64)}`, secret, now)).toThrow(/no signature matches/);
    expect(() => verifyStripeSignature(body, signStripePayload(body, 'whsec_other', t), secret, now)).toThrow(
      /no signature matches/,
    );
    expect(() =>
      verifyStripeSignature(body.replace('invoice', 'Invoice'), signStripePayload(body, secret, t), secret, now),
    ).toThrow(/no signature matches/);
    // The timestamp is signed too: moving it breaks the signature.
    expect(() => verifyStripeSignature(body, `t=${t + 1},v1=${v1(`${t}.${body}`)}`, secret, now)).toThrow(/no signature matches/);
  });

  it('refuses an old or a future timestamp, even correctly signed (a replay)', () => {
    const old = t - SIGNATURE_TOLERANCE_SECONDS - 1;
    expect(() => verifyStripeSignature(body, signStripePayload(body, secret, old), secret, now)).toThrow(/tolerance/);
    const future = t + SIGNATURE_TOLERANCE_SECONDS + 1;
    expect(() => verifyStripeSignature(body, signStripePayload(body, secret, future), secret, now)).toThrow(/tolerance/);
  });

  it('refuses a missing or malformed header as a 400 validation error', () => {
    for (const header of [
      undefined,
      '',
      'v1=abc',
      `t=${t}`,
      `t=soon,v1=${v1(`${t}.${body}`)}`,
      `t=${t},v1=zz`,
      `t=${t},v1=abcd`,
    ]) {
      let error: unknown;
      try {
        verifyStripeSignature(body, header, secret, now);
      } catch (e) {
        error = e;
      }
      expect(error, String(header)).toMatchObject({ status: 400, type: 'validation-error' });
    }
  });
});
