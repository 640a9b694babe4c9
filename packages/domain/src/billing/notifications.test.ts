import { describe, expect, it } from 'vitest';
import { money } from './notifications.ts';

describe('money in notifications', () => {
  it('reads minor units as each currency counts them', () => {
    expect(money({ amountMinor: 4500, currency: 'usd' })).toBe('45.00 USD');
    expect(money({ amountMinor: 4500, currency: 'JPY' })).toBe('4500 JPY');
    expect(money({ amountMinor: 4500, currency: 'kwd' })).toBe('4.500 KWD');
    expect(money({ amountMinor: 4500, currency: 'not a code' })).toBe('45.00 NOT A CODE');
  });
});
