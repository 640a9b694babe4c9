import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ledgerDb } from '@platform/domain/billing/entities';
import { adjustCredits } from '@platform/domain/billing/adjustments';
import {
  credit,
  debit,
  getBalance,
  getReservation,
  getTransaction,
  listTransactions,
  refund,
  releaseExpiredReservations,
  reserve,
  release,
  settle,
} from '@platform/domain/billing/ledger';
import type { OrgAccess } from '@platform/domain/identity/access';
import { db } from '@platform/domain/identity/entities';

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
    let charged = 0;
    for (let round = 0; round < 5; round++) {
      const id = `job-${round}`;
      await reserve(orgId, id, 40, { holdMinutes: -1 }); // already past its hold: the sweep may take it
      // The sweep closes every expired hold in the table (other files' too, and theirs may close this one):
      // who won is read from this hold, and the balance shows it closed once.
      const [, settled] = await Promise.all([releaseExpiredReservations(), settle(orgId, id, 25)]);
      expect((await getReservation(orgId, id)).status, `round ${round}`).toBe(settled.settled ? 'settled' : 'released');
      if (settled.settled) charged += 25;
      expect(await expectConsistent(orgId), `round ${round}`).toMatchObject({ available: 1000 - charged, reserved: 0 });
    }
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

  it('refuses (409) a key reused for another operation, another type or another amount, and writes nothing', async () => {
    const orgId = newOrg();
    const granted = await credit(orgId, 'op-1', 'grant', 100);
    await expect(debit(orgId, 'op-1', 30)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('a grant of 100'),
    });
    await expect(credit(orgId, 'op-1', 'purchase', 100)).rejects.toMatchObject({ status: 409 });
    const charged = await debit(orgId, 'charge-1', 5);
    await expect(debit(orgId, 'charge-1', 50)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('a debit of -5'),
    });
    // The same operation again is a retry: the first row, nothing applied twice.
    expect((await credit(orgId, 'op-1', 'grant', 100)).transactionId).toBe(granted.transactionId);
    expect((await debit(orgId, 'charge-1', 5)).transactionId).toBe(charged.transactionId);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 95, balance: 95 });
  });
});

describe('refunds (DynamoDB Local)', () => {
  it('give back at most what a charge took, less earlier refunds, once per key, linked to the charge', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 100);
    const charge = await debit(orgId, 'charge-1', 30);
    const first = await refund(orgId, 'refund-1', { of: 'charge-1', amount: 10 });
    expect(first).toMatchObject({ type: 'refund', amount: 10, refundOf: charge.transactionId });
    // A retry answers the first refund; the key reused for another amount is a 409.
    expect((await refund(orgId, 'refund-1', { of: 'charge-1', amount: 10 })).transactionId).toBe(first.transactionId);
    await expect(refund(orgId, 'refund-1', { of: 'charge-1', amount: 5 })).rejects.toMatchObject({ status: 409 });
    await expect(refund(orgId, 'refund-2', { of: charge, amount: 21 })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('at most 20 more'),
    });
    await expect(refund(orgId, 'refund-3', { of: 'charge-1', amount: 31 })).rejects.toMatchObject({ status: 409 });
    await refund(orgId, 'refund-2', { of: charge, amount: 20 });
    expect(await getTransaction(orgId, 'charge-1')).toMatchObject({ amount: -30, refunded: 30 });
    await expect(refund(orgId, 'refund-4', { of: 'charge-1', amount: 1 })).rejects.toMatchObject({ status: 409 });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 100, balance: 100 });
  });

  it('never return more than the charge took when refunds race', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 100);
    await debit(orgId, 'charge-2', 10);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => refund(orgId, `race-${i}`, { of: 'charge-2', amount: 3 })),
    );
    const refunded = outcomes.filter((o) => o.status === 'fulfilled').length * 3;
    expect(refunded).toBeLessThanOrEqual(10);
    expect((await getTransaction(orgId, 'charge-2')).refunded).toBe(refunded);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason.status).toBe(409);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 90 + refunded });
  });

  it('refund a settled reservation, but nothing that is not a charge, and no charge that is not there', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 100);
    await reserve(orgId, 'job-1', 40);
    const settled = await settle(orgId, 'job-1', 25);
    if (!settled.settled) throw new Error('not settled');
    expect(await refund(orgId, 'refund-job-1', { of: settled.transaction, amount: 25 })).toMatchObject({ amount: 25 });
    await expect(refund(orgId, 'refund-grant', { of: 'g', amount: 1 })).rejects.toMatchObject({ status: 409 });
    await expect(refund(orgId, 'refund-none', { of: 'no-such-charge', amount: 1 })).rejects.toMatchObject({ status: 404 });
    const unwritten = { ...settled.transaction, key: 'never-written' };
    await expect(refund(orgId, 'refund-ghost', { of: unwritten, amount: 1 })).rejects.toMatchObject({ status: 404 });
    await expect(getTransaction(orgId, 'never-written')).rejects.toMatchObject({ status: 404 });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 100, reserved: 0 });
  });

  it('are bounded by the charge as stored, not by a copy of it passed in', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 100);
    const charge = await debit(orgId, 'charge-30', 30);
    await expect(refund(orgId, 'refund-big', { of: { ...charge, amount: -1000 }, amount: 500 })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('took 30 credits'),
    });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 70 });
    expect(await refund(orgId, 'refund-30', { of: charge, amount: 30 })).toMatchObject({ amount: 30 });
  });
});

describe('what the ledger refuses from its callers (DynamoDB Local)', () => {
  it('a row under the key of a reservation’s charge, which would leave it unable to settle', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 100);
    await expect(debit(orgId, 'settle:job-x', 1)).rejects.toMatchObject({ status: 400 });
    await expect(credit(orgId, 'settle:job-x', 'grant', 1)).rejects.toMatchObject({ status: 400 });
    await reserve(orgId, 'job-x', 10);
    expect(await settle(orgId, 'job-x', 5)).toMatchObject({ settled: true });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 95, reserved: 0 });
  });

  it('a settlement past what a number keeps exactly, and a hold past a week or of no number of minutes: 400, nothing written', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 100);
    await reserve(orgId, 'job-big', 10);
    await expect(settle(orgId, 'job-big', 1e130)).rejects.toMatchObject({ status: 400 });
    for (const holdMinutes of [Infinity, -Infinity, Number.NaN, 7 * 24 * 60 + 1])
      await expect(reserve(orgId, `job-${holdMinutes}`, 10, { holdMinutes })).rejects.toMatchObject({ status: 400 });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 90, reserved: 10 });
    expect(await settle(orgId, 'job-big', 10)).toMatchObject({ settled: true });
  });
});

describe('admin adjustments (DynamoDB Local)', () => {
  const adminOf = (orgId: string): OrgAccess =>
    ({
      orgId,
      org: { orgId },
      caller: { kind: 'user', userId: 'admin-1', groups: [], isPlatformAdmin: true },
      permissions: new Set(),
      actorId: 'admin-1',
      actorType: 'user',
    }) as unknown as OrgAccess;
  const audited = async (orgId: string) =>
    (await db.auditEvent.query.byOrg({ orgId }).go({ pages: 'all' })).data.filter((e) => e.action === 'credits.adjusted');

  it('apply a request key once, audited once, and refuse it (409) for another amount once the HTTP record is gone', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 100);
    const first = await adjustCredits(adminOf(orgId), { amount: 500, reason: 'bonus' }, 'req-key-1234');
    expect(first).toMatchObject({ type: 'adjustment', amount: 500 });
    // Past the Idempotency-Key record's 24 hours the same key reaches the ledger again.
    const again = await adjustCredits(adminOf(orgId), { amount: 500, reason: 'bonus' }, 'req-key-1234');
    expect(again.transactionId).toBe(first.transactionId);
    await expect(adjustCredits(adminOf(orgId), { amount: -50, reason: 'take back' }, 'req-key-1234')).rejects.toMatchObject({
      status: 409,
    });
    expect(await expectConsistent(orgId)).toMatchObject({ available: 600 });
    expect((await audited(orgId)).map((e) => e.targetId)).toEqual([first.transactionId]);
  });

  it('audit nothing for an adjustment refused for want of credits', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 10);
    await expect(adjustCredits(adminOf(orgId), { amount: -50, reason: 'too much' }, 'req-key-5678')).rejects.toMatchObject({
      status: 402,
    });
    expect(await audited(orgId)).toEqual([]);
    expect(await expectConsistent(orgId)).toMatchObject({ available: 10 });
  });
});

describe('the transaction list (DynamoDB Local)', () => {
  it('lists everything up to the last instant of year 9999 (the bound past it would sort before every year)', async () => {
    const orgId = newOrg();
    await credit(orgId, 'g', 'grant', 100);
    const { items } = await listTransactions(orgId, { to: '9999-12-31T23:59:59.999Z' });
    expect(items.map((t) => t.key)).toEqual(['g']);
    const since = await listTransactions(orgId, { from: '2000-01-01T00:00:00.000Z', to: '9999-12-31T23:59:59.999Z' });
    expect(since.items.map((t) => t.key)).toEqual(['g']);
  });
});
