import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { BILLING_STREAM_FILTER } from '@platform/domain/billing/notifications';
import { DEPARTURE_STREAM_FILTERS } from '@platform/domain/identity/departures';
import { matchesFilter } from './streams.ts';

/** A stream record as DynamoDB Local's GetRecords answers it. */
const record = (eventName: string, images: { NewImage?: object; OldImage?: object }) => ({
  eventName,
  dynamodb: {
    SequenceNumber: '1',
    ...(images.NewImage ? { NewImage: marshall(images.NewImage, { removeUndefinedValues: true }) } : {}),
    ...(images.OldImage ? { OldImage: marshall(images.OldImage, { removeUndefinedValues: true }) } : {}),
  },
});
const departure = (r: object) => DEPARTURE_STREAM_FILTERS.some((f) => matchesFilter(f, r));
const membership = { __edb_e__: 'membership', orgId: 'org_1', userId: 'u1', role: 'admin' };
const user = { __edb_e__: 'user', userId: 'u1', email: 'a@example.com' };

describe('the local stream applies the deployed filter patterns', () => {
  it('keeps billing’s entities by their new image, never a removal', () => {
    const account = { __edb_e__: 'creditaccount', orgId: 'org_1', available: 5 };
    expect(matchesFilter(BILLING_STREAM_FILTER, record('MODIFY', { NewImage: account, OldImage: account }))).toBe(true);
    expect(matchesFilter(BILLING_STREAM_FILTER, record('REMOVE', { OldImage: account }))).toBe(false);
    expect(matchesFilter(BILLING_STREAM_FILTER, record('INSERT', { NewImage: membership }))).toBe(false);
  });

  it('keeps memberships by their old image and users only once deleted', () => {
    expect(departure(record('REMOVE', { OldImage: membership }))).toBe(true);
    expect(departure(record('MODIFY', { OldImage: membership, NewImage: { ...membership, role: 'viewer' } }))).toBe(true);
    expect(departure(record('INSERT', { NewImage: membership }))).toBe(false);
    expect(departure(record('MODIFY', { OldImage: user, NewImage: { ...user, lastLoginAt: 'now' } }))).toBe(false);
    expect(departure(record('MODIFY', { OldImage: user, NewImage: { ...user, deletedAt: 'now' } }))).toBe(true);
  });

  it('refuses a rule it does not implement rather than ignore it', () => {
    expect(() =>
      matchesFilter({ dynamodb: { NewImage: { userId: { S: [{ prefix: 'u' }] } } } }, record('INSERT', { NewImage: user })),
    ).toThrow(/does not apply/);
  });
});
