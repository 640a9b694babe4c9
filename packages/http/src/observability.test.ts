import { describe, expect, it } from 'vitest';
import { logger, redact } from './observability.ts';

describe('log redaction', () => {
  it('hides secrets and credentials wherever they are nested, and keeps the rest', () => {
    const event = {
      headers: { authorization: 'Bearer eyJ.secret', 'x-api-key': 'ak_1.s3cr3t', 'content-type': 'application/json' },
      body: { email: 'ada@example.com', password: 'hunter2', refreshToken: 'rt', code: '123456' },
      key: 'ak_x.y',
      providerKey: { secret: 'sk-live' },
      // A Google service account's key, Stripe's webhook signature, a TOTP set-up URI, Cognito's MFA challenge session.
      config: { privateKey: 'pk-live' },
      webhook: { 'stripe-signature': 't=1,v1=sig' },
      mfa: { otpauthUri: 'otpauth://totp/x?secret=S', session: 'cognito-session' },
      sessionId: 'ses_1',
    };
    const logged = JSON.stringify(event, redact);
    for (const secret of [
      'eyJ.secret',
      's3cr3t',
      'hunter2',
      '"rt"',
      '123456',
      'ak_x.y',
      'sk-live',
      'pk-live',
      'v1=sig',
      'otpauth:',
      'cognito-session',
    ])
      expect(logged).not.toContain(secret);
    expect(logged).toContain('ada@example.com');
    expect(logged).toContain('ses_1');
    expect(logged).toContain('application/json');
  });

  it('writes a logged error whole: name, message, stack and cause, its secrets still hidden', () => {
    const error = Object.assign(new Error('The card was declined', { cause: new TypeError('amount is not a number') }), {
      details: { apiKey: 'ak_1.s3cr3t', orderId: 'ord_1' },
    });
    // The replacer the logger writes every line with (protected in Powertools' types).
    const { getJsonReplacer } = logger as unknown as { getJsonReplacer(): (key: string, value: unknown) => unknown };
    const logged = JSON.parse(JSON.stringify({ error }, getJsonReplacer.call(logger)));
    expect(logged.error).toMatchObject({
      name: 'Error',
      message: 'The card was declined',
      stack: expect.stringContaining('observability.test.ts'),
      cause: { name: 'TypeError', message: 'amount is not a number' },
      details: { apiKey: '[redacted]', orderId: 'ord_1' },
    });
  });
});
