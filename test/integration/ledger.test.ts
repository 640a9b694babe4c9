import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ledgerDb } from '@platform/domain/billing/entities';
import { credit, debit, getBalance, releaseExpiredReservations, reserve, release, settle } from '@platform/domain/billing/ledger';

const newOrg = () => `org_${randomUUID().replace(/-/g, '').slice(0, 26)}`;

async function ledgerSum(orgId: string) {
  const { data } = await ledgerDb.transaction.query.byKey({ orgId }).go({ pages: 'all' });
  return data.reduce((sum, row) => sum + row.amount, 0);
}

async function expectConsistent(orgId: string) {
  const balance = await getBalance(orgId);
  expect(balance.available).toBeGreaterThanOrEqual(0);
  expect(balance.reserved).toBeGreaterThanOrEqual(0);
  expect(balance.balance).toBe(await ledgerSum(orgId));
  return balance;
}

describe('the credit ledger under concurrency (DynamoDB Local)', () => {
  it('lets exactly 50 of 200 concurrent debits through a balance of 50; the rest get 402', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant-1', 'grant', 50);
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => debit(orgId, `call-${i}`, 1)));
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(50);
    expect(failed.every((o) => (o as PromiseRejectedResult).reason.status === 402)).toBe(true);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 0, reserved: 0, balance: 0 });
  });

  it('applies an operation once per idempotency key, however often it is retried', async () => {
    const orgId = newOrg();
    await Promise.all([credit(orgId, 'purchase-7', 'purchase', 30), credit(orgId, 'purchase-7', 'purchase', 30)]);
    const rows = await Promise.all(Array.from({ length: 5 }, () => debit(orgId, 'charge-9', 12)));
    expect(new Set(rows.map((r) => r.transactionId)).size).toBe(1);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 18, balance: 18 });
  });

  it('settles a reservation or releases it, never both: a sweep and a late worker race', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 1000);
    for (let round = 0; round < 5; round++) {
      const id = `job-${round}`;
      await reserve(orgId, id, 40, { holdMinutes: -1 }); // already past its hold: the sweep may take it
      const [released, settled] = await Promise.all([releaseExpiredReservations(), settle(orgId, id, 25)]);
      const winners = Number(released > 0) + Number(settled.settled);
      expect(winners, `round ${round}`).toBe(1);
      await expectConsistent(orgId);
    }
    const { reserved } = await getBalance(orgId);
    expect(reserved).toBe(0);
  });

  it('returns an unused hold, charges an overrun from what is available, and caps what it cannot cover', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 100);
    await reserve(orgId, 'under', 30);
    expect(await settle(orgId, 'under', 10)).toMatchObject({ settled: true, charged: 10 });
    expect(await getBalance(orgId)).toMatchObject({ available: 90, reserved: 0 });

    await reserve(orgId, 'over', 30);
    expect(await settle(orgId, 'over', 50)).toMatchObject({ settled: true, charged: 50 });
    expect(await getBalance(orgId)).toMatchObject({ available: 40, reserved: 0 });

    await reserve(orgId, 'way-over', 30);
    const capped = await settle(orgId, 'way-over', 500);
    expect(capped).toMatchObject({ settled: true, charged: 30 });
    if (capped.settled) expect(capped.transaction.metadata).toMatchObject({ requested: 500, shortfall: 470 });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 10, reserved: 0 });

    await reserve(orgId, 'unused', 10);
    expect(await release(orgId, 'unused')).toBe(true);
    expect(await release(orgId, 'unused')).toBe(false);
    expect(await settle(orgId, 'unused', 5)).toEqual({ settled: false, status: 'released' });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 10, reserved: 0 });
  });

  it('refuses a reservation the balance cannot cover, and a reused id with another amount', async () => {
    const orgId = newOrg();
    await credit(orgId, 'grant', 'grant', 20);
    await expect(reserve(orgId, 'big', 21)).rejects.toMatchObject({ status: 402 });
    await reserve(orgId, 'r1', 5);
    expect((await reserve(orgId, 'r1', 5)).reservationId).toBe('r1');
    await expect(reserve(orgId, 'r1', 6)).rejects.toMatchObject({ status: 409 });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 15, reserved: 5 });
  });
});
