/**
 * How many decimals an amount in minor units carries, as Stripe counts them: its amounts
 * (`amount_paid`, `amount_refunded`, a dispute's `amount`) are what payments record. Stripe's
 * table, not ISO 4217's (Intl's): HUF, ISK and TWD stay two-decimal in its API (500 is 5 ISK),
 * though ISO gives them none (https://docs.stripe.com/currencies#zero-decimal).
 */
const ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/** The decimals of `currency` (any case) in minor units: two, as most currencies have, unless Stripe's table says otherwise. */
export function minorUnitDigits(currency: string): number {
  const code = currency.toUpperCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  return THREE_DECIMAL.has(code) ? 3 : 2;
}
