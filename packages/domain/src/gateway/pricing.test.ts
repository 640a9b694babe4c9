import { afterEach, describe, expect, it } from 'vitest';
import { costOf, countableUsage, creditsFor, estimateCredits, estimateTextTokens, estimateTokens, MAX_COUNT } from './pricing.ts';
import type { ModelPricing } from './types.ts';

// Claude 3 Haiku on Bedrock: $0.25 / $1.25 per million tokens.
const haiku: ModelPricing = { inputPerMTokMicros: 250_000, outputPerMTokMicros: 1_250_000 };

describe('pricing', () => {
  afterEach(() => {
    delete process.env.CREDITS_PER_USD;
  });

  it('prices tokens at the per-million rates, in integer micro-USD', () => {
    expect(costOf(haiku, { inputTokens: 1_000_000, outputTokens: 2_000_000 })).toEqual({
      inputCostMicros: 250_000,
      outputCostMicros: 2_500_000,
      totalCostMicros: 2_750_000,
    });
  });

  it('rounds each side up, so a call never costs less than the provider charges', () => {
    // 3 tokens at 0.25 µ$ each = 0.75 µ$ → 1; 7 tokens at 1.25 µ$ = 8.75 µ$ → 9.
    expect(costOf(haiku, { inputTokens: 3, outputTokens: 7 })).toEqual({
      inputCostMicros: 1,
      outputCostMicros: 9,
      totalCostMicros: 10,
    });
    expect(costOf(haiku, { inputTokens: 4, outputTokens: 0 })).toEqual({
      inputCostMicros: 1,
      outputCostMicros: 0,
      totalCostMicros: 1,
    });
    expect(costOf(haiku, { inputTokens: 0, outputTokens: 0 }).totalCostMicros).toBe(0);
  });

  it('stays exact beyond the float range of token × price', () => {
    const pricey: ModelPricing = { inputPerMTokMicros: 75_000_000_000, outputPerMTokMicros: 0 };
    // 9e15 / 1e6 would lose digits in floating point.
    expect(costOf(pricey, { inputTokens: 123_456_789 }).inputCostMicros).toBe(9_259_259_175_000);
  });

  it('makes any count a provider reports countable: fractions up, nonsense 0, past a billion a billion, and says when it changed one', () => {
    expect(countableUsage({ inputTokens: 10.5, outputTokens: 3 })).toEqual({
      usage: { inputTokens: 11, outputTokens: 3 },
      invalid: false,
    });
    expect(countableUsage({ inputTokens: -5, outputTokens: 1e16, images: Number.NaN })).toEqual({
      usage: { inputTokens: 0, outputTokens: MAX_COUNT, images: 0 },
      invalid: true,
    });
  });

  it('holds a cost past what a number keeps exactly at its most, so that it can still be charged', () => {
    const dearest: ModelPricing = { inputPerMTokMicros: 1e12, outputPerMTokMicros: 1e12, perImageMicros: 1e12 };
    const cost = costOf(dearest, { inputTokens: MAX_COUNT, outputTokens: MAX_COUNT, images: MAX_COUNT });
    expect(cost).toEqual({
      inputCostMicros: 1e15,
      outputCostMicros: Number.MAX_SAFE_INTEGER,
      totalCostMicros: Number.MAX_SAFE_INTEGER,
    });
    expect(creditsFor(cost.totalCostMicros)).toBe(900_719_925_475);
  });

  it('prices images per image, as output', () => {
    const titan: ModelPricing = { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: 8_000 };
    expect(costOf(titan, { images: 3 })).toEqual({ inputCostMicros: 0, outputCostMicros: 24_000, totalCostMicros: 24_000 });
  });

  it('refuses negative or fractional counts rather than pricing them', () => {
    expect(() => costOf(haiku, { inputTokens: -1 })).toThrow(RangeError);
    expect(() => costOf(haiku, { outputTokens: 1.5 })).toThrow(RangeError);
    expect(() => costOf({ inputPerMTokMicros: Number.NaN, outputPerMTokMicros: 0 }, { inputTokens: 1 })).toThrow(RangeError);
  });

  it('turns a cost into whole credits of one cent, rounded up, at least one for any cost', () => {
    expect(creditsFor(0)).toBe(0);
    expect(creditsFor(1)).toBe(1);
    expect(creditsFor(10_000)).toBe(1);
    expect(creditsFor(10_001)).toBe(2);
    expect(creditsFor(2_750_000)).toBe(275);
  });

  it('takes the rate from CREDITS_PER_USD', () => {
    process.env.CREDITS_PER_USD = '1000';
    expect(creditsFor(1_000)).toBe(1);
    expect(creditsFor(1_001)).toBe(2);
    process.env.CREDITS_PER_USD = 'lots';
    expect(() => creditsFor(1)).toThrow(/CREDITS_PER_USD/);
  });

  it('estimates input tokens from the characters of each message, plus overhead per message', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('abcde')).toBe(2);
    const request = {
      messages: [
        { role: 'system' as const, content: 'x'.repeat(40) },
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'y'.repeat(8) }] },
      ],
    };
    // 3 priming + (4 + 10) + (4 + 2)
    expect(estimateTokens(request)).toBe(23);
    const withImage = {
      messages: [
        { role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AA' } }] },
      ],
    };
    expect(estimateTokens(withImage)).toBeGreaterThan(1_000);
  });

  it('reserves credits for the estimated input and the most output the call may produce', () => {
    const request = { messages: [{ role: 'user' as const, content: 'z'.repeat(3_988) }] };
    // 3 + 4 + 997 = 1004 input tokens → 251 µ$; 4000 output tokens → 5000 µ$; 5251 µ$ → 1 credit.
    expect(estimateCredits(haiku, request, 4_000)).toBe(1);
    expect(estimateCredits(haiku, request, 8_000)).toBe(2);
  });
});
