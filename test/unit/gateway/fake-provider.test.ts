import { describe, expect, it } from 'vitest';
import { startFakeProvider, times } from '../../helpers/fake-provider.ts';
import { useFakeProvider } from '../../helpers/use-fake-provider.ts';

const fake = useFakeProvider();

const post = (path: string, body: unknown) =>
  fetch(`${fake().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the fake provider', () => {
  it('plays a model’s script in order, then the `*` script, then the default', async () => {
    fake().script('a', { kind: 'fail', status: 503 }, times(2, { kind: 'fail', status: 429, retryAfter: 3 }));
    fake().script('*', { kind: 'fail', status: 500 });
    fake().setDefault({ kind: 'fail', status: 401 });
    const statuses = [];
    for (const model of ['a', 'a', 'a', 'a', 'b', 'b'])
      statuses.push((await post('/v1/chat/completions', { model, messages: [] })).status);
    expect(statuses).toEqual([503, 429, 429, 500, 401, 401]);
    const throttled = await (fake().script('a', { kind: 'fail', status: 429, retryAfter: 3 }),
    post('/v1/messages', { model: 'a' }));
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect(await throttled.json()).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'fake failure 429' } });
  });

  it('records each request with its dialect, operation, model, headers and body, and forgets them on reset', async () => {
    await post('/v1beta/models/gemini-x:streamGenerateContent?alt=sse', { contents: [] });
    await post('/v1/embeddings', { model: 'e', input: ['x'] });
    expect(fake().requests.map(({ dialect, operation, model }) => [dialect, operation, model])).toEqual([
      ['gemini', 'stream', 'gemini-x'],
      ['openai', 'embeddings', 'e'],
    ]);
    expect(fake().requests[1]!.headers['content-type']).toBe('application/json');
    expect(fake().received()).toBe(2);
    fake().reset();
    expect(fake().requests).toEqual([]);
  });

  it('answers 404 for a path no dialect has, and 400 for malformed JSON', async () => {
    expect((await post('/v2/unknown', {})).status).toBe(404);
    const malformed = await fetch(`${fake().url}/v1/messages`, { method: 'POST', body: '{' });
    expect(malformed.status).toBe(400);
  });

  it('can run without recording, for load', async () => {
    const quiet = await startFakeProvider({ record: false });
    await fetch(`${quiet.baseUrl('openai')}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages: [] }),
    });
    expect(quiet.requests).toEqual([]);
    expect(quiet.received()).toBe(1);
    await quiet.close();
  });
});
