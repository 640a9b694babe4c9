/**
 * What a model call costs, in integer micro-USD, and in credits. Owned here so the reservation
 * before a call (an estimate) and the settlement after it (the provider's token counts) use the
 * same arithmetic. Money is integer micro-USD (1 USD = 1_000_000) and always rounds up: a call
 * never costs less than the provider charges us.
 */
import type { ChatMessage, ChatRequest, ModelPricing } from './types.ts';

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  images?: number;
}

/** More tokens or images than any call can use (a billion; no model's context holds a hundredth of it). */
export const MAX_COUNT = 1_000_000_000;

/**
 * Usage as a provider reported it, made countable: a fraction rounds up, a count past `MAX_COUNT`
 * counts `MAX_COUNT`, and anything else that is not a non-negative number (negative, NaN, a
 * string) counts 0; `invalid` says when a count was changed other than rounded. A provider's
 * mistake must not cost the call its record: `costOf` refuses such counts. What is counted is
 * also what the client is told it used.
 */
export function countableUsage(usage: Usage): { usage: Usage; invalid: boolean } {
  let invalid = false;
  const countable = (value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
      if (value <= MAX_COUNT) return Math.ceil(value);
      invalid = true;
      return MAX_COUNT;
    }
    invalid = true;
    return 0;
  };
  const counted = {
    inputTokens: countable(usage.inputTokens),
    outputTokens: countable(usage.outputTokens),
    images: countable(usage.images),
  };
  return { usage: Object.fromEntries(Object.entries(counted).filter(([, v]) => v !== undefined)) as Usage, invalid };
}

export interface Cost {
  inputCostMicros: number;
  outputCostMicros: number;
  totalCostMicros: number;
}

const MICROS_PER_USD = 1_000_000n;
const TOKENS_PER_PRICE_UNIT = 1_000_000n;
const DEFAULT_CREDITS_PER_USD = 100;
const MAX_MICROS = BigInt(Number.MAX_SAFE_INTEGER);

/** Tokens and prices are counts: integers, not negative. Anything else is a bug upstream, not a price. */
function count(value: number | undefined, what: string): bigint {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
  return BigInt(n);
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

/** The cost of a call: tokens at the model's per-million-token prices, images at the per-image price (as output). */
export function costOf(pricing: ModelPricing, usage: Usage): Cost {
  const inputCost = ceilDiv(
    count(usage.inputTokens, 'inputTokens') * count(pricing.inputPerMTokMicros, 'inputPerMTokMicros'),
    TOKENS_PER_PRICE_UNIT,
  );
  const outputCost =
    ceilDiv(
      count(usage.outputTokens, 'outputTokens') * count(pricing.outputPerMTokMicros, 'outputPerMTokMicros'),
      TOKENS_PER_PRICE_UNIT,
    ) +
    count(usage.images, 'images') * count(pricing.perImageMicros, 'perImageMicros');
  // Prices go up to 10^12 micro-USD: a cost past what a number holds exactly is held at its most.
  const bounded = (micros: bigint) => Number(micros > MAX_MICROS ? MAX_MICROS : micros);
  return {
    inputCostMicros: bounded(inputCost),
    outputCostMicros: bounded(outputCost),
    totalCostMicros: bounded(inputCost + outputCost),
  };
}

/** Credits per US dollar: 100 (1 credit = 1 cent) unless CREDITS_PER_USD says otherwise. */
export function creditsPerUsd(): number {
  const configured = process.env.CREDITS_PER_USD;
  if (configured === undefined || configured === '') return DEFAULT_CREDITS_PER_USD;
  const value = Number(configured);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`CREDITS_PER_USD must be a positive integer, got ${configured}`);
  return value;
}

/** Whole credits for a cost, rounded up: a non-zero cost is at least one credit. */
export function creditsFor(totalCostMicros: number): number {
  const micros = count(totalCostMicros, 'totalCostMicros');
  return Number(ceilDiv(micros * BigInt(creditsPerUsd()), MICROS_PER_USD));
}

/** Tokens a message costs beyond its text (role and separators), as OpenAI's chat format counts them. */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** Tokens that prime every reply. */
const REPLY_PRIMING_TOKENS = 3;
/** What an attached image costs in input tokens, roughly (Anthropic's figure for a ~1 megapixel image). */
const IMAGE_PART_TOKENS = 1_600;

/** A fast token estimate of a text: four characters a token, rounded up. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function messageTokens(message: ChatMessage): number {
  if (typeof message.content === 'string') return estimateTextTokens(message.content);
  let tokens = 0;
  for (const part of message.content) tokens += part.type === 'text' ? estimateTextTokens(part.text) : IMAGE_PART_TOKENS;
  return tokens;
}

/** A fast estimate of a chat request's input tokens, for the credit reservation before the call (never for billing). */
export function estimateTokens(request: Pick<ChatRequest, 'messages'>): number {
  let tokens = REPLY_PRIMING_TOKENS;
  for (const message of request.messages) tokens += MESSAGE_OVERHEAD_TOKENS + messageTokens(message);
  return tokens;
}

/** Credits to reserve before a chat call: the estimated input plus the most output the call may produce. */
export function estimateCredits(pricing: ModelPricing, request: Pick<ChatRequest, 'messages'>, maxOutputTokens: number): number {
  return creditsFor(costOf(pricing, { inputTokens: estimateTokens(request), outputTokens: maxOutputTokens }).totalCostMicros);
}
