import { describe, expect, it } from 'vitest';
import { redact } from './observability.ts';

describe('log redaction', () => {
  it('hides secrets and credentials wherever they are nested, and keeps the rest', () => {
    const event = {
      headers: { authorization: 'Bearer eyJ.secret', 'x-api-key': 'ak_1.s3cr3t', 'content-type': 'application/json' },
      body: { email: 'ada@example.com', password: 'hunter2', refreshToken: 'rt', code: '123456' },
      key: 'ak_x.y',
      providerKey: { secret: 'sk-live' },
    };
    const logged = JSON.stringify(event, redact);
    for (const secret of ['eyJ.secret', 's3cr3t', 'hunter2', '"rt"', '123456', 'ak_x.y', 'sk-live'])
      expect(logged).not.toContain(secret);
    expect(logged).toContain('ada@example.com');
    expect(logged).toContain('application/json');
  });
});
