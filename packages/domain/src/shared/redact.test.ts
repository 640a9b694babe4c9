import { describe, expect, it } from 'vitest';
import { redactSecret } from './redact.ts';

describe('cutting a key out of a text', () => {
  const key = 'sk-Short+Key/12="x';

  it('cuts it in every spelling a provider may echo it in: as sent, URL-encoded, JSON-escaped, base64', () => {
    const echoes = [key, encodeURIComponent(key), JSON.stringify(key).slice(1, -1), Buffer.from(key).toString('base64')];
    expect(new Set(echoes).size).toBe(4);
    expect(redactSecret(`Bad key ${echoes.join(' / ')}.`, key)).toBe(
      'Bad key [redacted] / [redacted] / [redacted] / [redacted].',
    );
  });

  it('leaves a text alone without a key, and does not cut a key shorter than four characters out of words', () => {
    expect(redactSecret('no secret here', undefined)).toBe('no secret here');
    expect(redactSecret('no secret here', '')).toBe('no secret here');
    // Its base64 (`YWI=`) is cut; the key itself, two letters, is not searched for.
    expect(redactSecret('about YWI=', 'ab')).toBe('about [redacted]');
  });
});
