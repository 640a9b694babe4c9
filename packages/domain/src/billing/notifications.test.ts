import { describe, expect, it } from 'vitest';
import { money } from './notifications.ts';

describe('money in notifications', () => {
  it('reads minor units as Stripe counts them', () => {
    expect(money({ amountMinor: 4500, currency: 'usd' })).toBe('45.00 USD');
    expect(money({ amountMinor: 4500, currency: 'JPY' })).toBe('4500 JPY');
    expect(money({ amountMinor: 4500, currency: 'kwd' })).toBe('4.500 KWD');
    expect(money({ amountMinor: 4500, currency: 'not a code' })).toBe('45.00 NOT A CODE');
    // Stripe keeps two decimals for these, though ISO 4217 (and Intl) gives them none.
    expect(money({ amountMinor: 4500, currency: 'huf' })).toBe('45.00 HUF');
    expect(money({ amountMinor: 4500, currency: 'ISK' })).toBe('45.00 ISK');
    expect(money({ amountMinor: 4500, currency: 'TWD' })).toBe('45.00 TWD');
    expect(money({ amountMinor: 4500, currency: 'ugx' })).toBe('4500 UGX');
  });
});
