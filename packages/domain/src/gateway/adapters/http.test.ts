import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../types.ts';
import { joinUrl, postJson, retryAfterMs, statusError } from './http.ts';

describe('provider HTTP errors', () => {
  it('reads Retry-After as seconds, as an HTTP date, or OpenAI’s retry-after-ms', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs({ 'retry-after': '3' }, now)).toBe(3_000);
    expect(retryAfterMs({ 'retry-after': '0.5' }, now)).toBe(500);
    expect(retryAfterMs({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }, now)).toBe(7_000);
    expect(retryAfterMs({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }, now)).toBe(0);
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '1' }, now)).toBe(250);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
  });

  it('classifies statuses: 429 throttled, 408 timeout, 5xx server, 401/402/403 auth, other 4xx invalid', () => {
    const kind = (status: number) => statusError('P', status, {}, '').kind;
    expect([429, 408, 500, 502, 503, 529, 401, 402, 403, 400, 404, 413, 422].map(kind)).toEqual([
      'throttled',
      'timeout',
      'server',
      'server',
      'server',
      'server',
      'auth',
      'auth',
      'auth',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
    ]);
  });

  it('keeps the provider’s message, cut short, with the key redacted; Retry-After only where a retry follows', () => {
    const key = 'sk-live-ab+c/def';
    const error = statusError(
      'OpenAI',
      429,
      { 'retry-after': '2' },
      JSON.stringify({ error: { message: `slow down ${key} (${encodeURIComponent(key)})` } }),
      key,
    );
    expect(error.message).toBe('OpenAI answered 429: slow down [redacted] ([redacted])');
    expect(error.options).toEqual({ status: 429, retryAfterMs: 2_000 });
    const long = statusError('P', 400, { 'retry-after': '2' }, 'x'.repeat(5_000));
    expect(long.message.length).toBeLessThan(400);
    expect(long.options.retryAfterMs).toBeUndefined();
  });

  it('joins a base URL with or without trailing slashes', () => {
    expect(joinUrl('http://h/v1/', '/x')).toBe('http://h/v1/x');
    expect(joinUrl('http://h/v1', '/x')).toBe('http://h/v1/x');
  });
});

describe('where the gateway connects', () => {
  it('never opens a connection to an internal address a base URL’s host name resolves to', async () => {
    const connections: unknown[] = [];
    const listener = createServer((socket) => {
      connections.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as { port: number };
    try {
      const call = postJson({ provider: 'Custom', url: `https://localhost:${port}/v1/chat/completions`, headers: {}, body: {} });
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        kind: 'invalid',
        retryable: false,
        message: 'Custom: localhost resolves to an internal address; the platform calls public hosts only',
      });
      expect(connections).toHaveLength(0);
    } finally {
      listener.close();
    }
  });
});
