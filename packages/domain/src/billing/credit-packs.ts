import { NotFoundError } from '../shared/errors.ts';

/**
 * Credit packs: credits bought once, on top of the plan's monthly grant (they never expire
 * with the period). Defined in code: a pack changes with a release, like a price list.
 */
export interface CreditPack {
  packId: string;
  name: string;
  credits: number;
  /** In minor units (cents) of `currency`. */
  priceMinor: number;
  currency: string;
}

export const CREDIT_PACKS: readonly CreditPack[] = [
  { packId: 'credits-1000', name: '1,000 credits', credits: 1_000, priceMinor: 1_000, currency: 'USD' },
  { packId: 'credits-5000', name: '5,000 credits', credits: 5_000, priceMinor: 4_500, currency: 'USD' },
  { packId: 'credits-20000', name: '20,000 credits', credits: 20_000, priceMinor: 16_000, currency: 'USD' },
];

export const findCreditPack = (packId: string | undefined): CreditPack | undefined =>
  CREDIT_PACKS.find((p) => p.packId === packId);

export function creditPack(packId: string): CreditPack {
  const pack = findCreditPack(packId);
  if (!pack) throw new NotFoundError(`There is no credit pack ${packId}`);
  return pack;
}
