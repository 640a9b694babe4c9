import { ConflictError, NotFoundError, PaymentRequiredError, ValidationError } from '../shared/errors.ts';
import { newId, shardOf } from '../shared/ids.ts';
import { put, returningOnFailure, transactWrite, update, type WriteItem } from '../shared/transactions.ts';
import { ledgerDb, type CreditReservation, type CreditTransaction, type TransactionType } from './entities.ts';
import { pageOf } from '../shared/pages.ts';

/**
 * The one API other capabilities use to move credits (the gateway, generation, training):
 * grant / purchase / adjust / debit apply a signed amount, refund gives back (part of) a
 * charge; reserve → settle or release holds credits for work in flight. Each call is one
 * DynamoDB transaction and never takes `available` below zero.
 *
 * What changes the balance (`available + reserved`) is a ledger row (CreditTransaction), keyed
 * by the caller's idempotency key: a retry answers the first row, the key reused for another
 * operation is a 409. So the ledger's sum is the balance.
 *
 * A hold changes no balance, so it writes no ledger row: `reserve` moves credits from
 * `available` to `reserved`, and `release` moves them back. The hold is its own item
 * (CreditReservation, keyed by organization and `reservationId`, the caller's idempotency key),
 * put only if that id is new, in the transaction that moves the credits: a retry with the same
 * amount answers the same hold, another amount is a 409. It closes once, `held` → `settled` or
 * `released` under the condition that it is still held; a closed hold stays 30 days (TTL), so
 * its id keeps answering it until then. Only settling charges, and that is one ledger row,
 * `settle:<reservationId>`, naming the hold and what it held (a lease's hold that calls drew
 * from settles what they drew, even when released). A client sees open holds as
 * `reserved` in GET /v1/orgs/{orgId}/credits, and each settled one as its row in the ledger.
 * While open, a hold may give back part of what it holds (`shrinkHeld`), again with no row.
 */
export const RESERVATION_SHARDS = 16;
const DEFAULT_HOLD_MINUTES = 30;
const CLOSED_RETENTION_DAYS = 30;

export interface Links {
  description?: string;
  actorId?: string;
  generationRequestId?: string;
  apiCallId?: string;
  invoiceId?: string;
  /** A refund's charge: its transaction id. */
  refundOf?: string;
  metadata?: Record<string, unknown>;
}

export interface Balance {
  orgId: string;
  available: number;
  reserved: number;
  /** available + reserved: equals the sum of the ledger. */
  balance: number;
}

/** The most credits one operation moves (ten billion dollars at a cent a credit). */
const MAX_CREDITS = 1e12;
/** The longest a hold may last: its row is kept 30 days. */
const MAX_HOLD_MINUTES = 7 * 24 * 60;

function checkAmount(amount: number, field = 'amount') {
  if (!Number.isInteger(amount) || amount <= 0 || amount > MAX_CREDITS)
    throw new ValidationError('Credits are positive whole numbers', [{ path: field, message: 'A positive integer' }]);
}

function ledgerRow(orgId: string, key: string, type: TransactionType, amount: number, links: Links, reservationId?: string) {
  // `settle:<reservation>` is the key of a reservation's charge: a caller's row under it would
  // leave that reservation unable to settle.
  if (type !== 'settle' && key.startsWith('settle:'))
    throw new ValidationError('This idempotency key is kept for settling reservations', [
      { path: 'key', message: 'Must not start with settle:' },
    ]);
  const item = {
    orgId,
    key,
    transactionId: newId('ctx'),
    type,
    amount,
    reservationId,
    createdAt: new Date().toISOString(),
    ...links,
  };
  return { item: item as CreditTransaction, write: put(ledgerDb.transaction.create(item)) };
}

/** The writes of one ledger operation: its row and the account's change. */
export interface LedgerWrites {
  row: ReturnType<typeof ledgerRow>;
  account: WriteItem;
}

/**
 * Whether the row already under a key is this operation again (a retry) rather than another
 * one that reused its key: the same type and amount, for the same thing (the ids it links).
 * Descriptions and metadata are the caller's words and may be worded anew on a retry.
 */
function sameOperation(existing: CreditTransaction, row: CreditTransaction) {
  const links = ['reservationId', 'generationRequestId', 'apiCallId', 'invoiceId', 'refundOf'] as const;
  return (
    existing.type === row.type &&
    existing.amount === row.amount &&
    links.every((link) => row[link] === undefined || existing[link] === row[link])
  );
}

const operationText = (row: CreditTransaction) =>
  `${row.type === 'adjustment' ? 'an' : 'a'} ${row.type} of ${row.amount} credits`;

/**
 * Runs a ledger row and an account change together, with the caller's `withWrites` (they land
 * only with a new row: an audit event, say). A replay of the same operation returns the first
 * row and writes nothing; a key used for another operation is a 409, nothing written.
 */
export async function applyLedgerWrites(
  { row, account }: LedgerWrites,
  withWrites: WriteItem[] = [],
): Promise<CreditTransaction> {
  // The row that holds the key comes back with the failure: no read to tell a retry from a clash.
  const outcome = await transactWrite([returningOnFailure(row.write), account, ...withWrites]);
  if (!outcome.canceled) return row.item;
  if (outcome.reasons[0] === 'ConditionalCheckFailed') return replayed(row.item, outcome.items[0]);
  throw new PaymentRequiredError('The organization does not have enough credits for this');
}

/** The row already under `row`'s key (as the failed write returned it): a retry's answer, or a 409. */
function replayed(row: CreditTransaction, raw: Record<string, unknown> | undefined): CreditTransaction {
  const existing = ledgerDb.transaction.parse({ Item: raw }).data as CreditTransaction;
  if (sameOperation(existing, row)) return existing;
  throw new ConflictError(
    `The key ${row.key} was used for another operation (${operationText(existing)}, not ${operationText(row)}); nothing was changed`,
  );
}

/** What a period's grant also sets on the account: the low-balance warning of that period. */
export interface LowBalanceMark {
  lowBalanceThreshold: number;
  lowBalancePeriod: string;
}

/** The writes that add credits, for a caller that needs them inside its own transaction. */
export function creditWrites(
  orgId: string,
  key: string,
  type: 'grant' | 'purchase' | 'refund' | 'adjustment',
  amount: number,
  links: Links = {},
  mark?: LowBalanceMark,
): LedgerWrites {
  checkAmount(amount);
  const account = ledgerDb.account.update({ orgId }).add({ available: amount });
  return {
    row: ledgerRow(orgId, key, type, amount, links),
    account: update(mark ? account.set(mark) : account),
  };
}

/**
 * The key of a plan's grant for the period starting at `periodStart`: one grant of that plan per
 * period, ever. Another plan's grant in the same period is kept out by proration (it starts from
 * the richest plan already credited: subscription-changes.ts) and by renewal granting only the
 * plan in use.
 */
export const periodGrantKey = (orgId: string, planId: string, periodStart: string) => `grant:${orgId}:${planId}:${periodStart}`;

/** Adds credits: a plan's grant, a purchase, or a positive admin adjustment (a refund goes through `refund`). */
export async function credit(
  orgId: string,
  key: string,
  type: 'grant' | 'purchase' | 'adjustment',
  amount: number,
  links: Links = {},
) {
  return applyLedgerWrites(creditWrites(orgId, key, type, amount, links));
}

export async function getTransaction(orgId: string, key: string): Promise<CreditTransaction> {
  const { data } = await ledgerDb.transaction.get({ orgId, key }).go({ consistent: true });
  if (!data) throw new NotFoundError('There is no credit transaction with this key');
  return data;
}

/**
 * Gives back credits a charge took (a debit, or a settled reservation), named by its key or
 * its row: at most what it took, less what its earlier refunds gave back. The charge counts
 * what was refunded (`refunded`) under that condition in the refund's own transaction, so
 * racing refunds never return more than it took. Once per key: a retry answers the first
 * refund; the key reused for anything else is a 409. 404 for no such charge; 409 for a row
 * that is no charge, or a charge without that much left to refund.
 */
export async function refund(
  orgId: string,
  key: string,
  { of, amount }: { of: string | CreditTransaction; amount: number },
  links: Links = {},
): Promise<CreditTransaction> {
  checkAmount(amount);
  const charge = typeof of === 'string' ? await getTransaction(orgId, of) : of;
  if (charge.orgId !== orgId) throw new NotFoundError('There is no credit transaction with this key');
  if (charge.type !== 'debit' && charge.type !== 'settle')
    throw new ConflictError(`Only a charge (a debit or a settle) can be refunded, not ${operationText(charge)}`);
  const taken = -charge.amount;
  if (amount > taken) throw new ConflictError(`This charge took ${taken} credits: a refund of ${amount} is more than that`);
  const { row, account } = creditWrites(orgId, key, 'refund', amount, { ...links, refundOf: charge.transactionId });
  const counted = update(
    ledgerDb.transaction
      .update({ orgId, key: charge.key })
      .add({ refunded: amount })
      // The type too: the update must not create a row where none is (a charge passed in that was never written).
      // And its amount: a refund is bounded by what the stored charge took, not by a copy passed in.
      .where(
        ({ type, refunded, amount: charged }, { eq, notExists, lte }) =>
          `${eq(type, charge.type)} AND ${eq(charged, charge.amount)} AND (${notExists(refunded)} OR ${lte(refunded, taken - amount)})`,
      ),
  );
  const outcome = await transactWrite([returningOnFailure(row.write), account, returningOnFailure(counted)]);
  if (!outcome.canceled) return row.item;
  if (outcome.reasons[0] === 'ConditionalCheckFailed') return replayed(row.item, outcome.items[0]);
  const now = outcome.items[2];
  if (!now) throw new NotFoundError('There is no credit transaction with this key');
  if (Number(now.amount) !== charge.amount)
    throw new ConflictError(`The charge ${charge.key} took ${-Number(now.amount)} credits, not ${taken}: refund it by its key`);
  const refunded = Number(now.refunded ?? 0);
  throw new ConflictError(
    `This charge took ${taken} credits and ${refunded} were refunded already: at most ${taken - refunded} more can be, not ${amount}`,
  );
}

/** The writes that take credits (only while `available` covers them), for a caller that adds its own. */
export function debitWrites(
  orgId: string,
  key: string,
  amount: number,
  links: Links = {},
  type: 'debit' | 'adjustment' = 'debit',
): LedgerWrites {
  checkAmount(amount);
  return {
    row: ledgerRow(orgId, key, type, -amount, links),
    account: update(
      ledgerDb.account
        .update({ orgId })
        .subtract({ available: amount })
        .where(({ available }, { gte }) => gte(available, amount)),
    ),
  };
}

/** Takes credits at once (a charge with no reservation, or a negative adjustment); 402 if short. */
export async function debit(
  orgId: string,
  key: string,
  amount: number,
  links: Links = {},
  type: 'debit' | 'adjustment' = 'debit',
) {
  return applyLedgerWrites(debitWrites(orgId, key, amount, links, type));
}

/**
 * Holds credits for work in flight: the hold item and `available` → `reserved`, no ledger row
 * (the balance is unchanged). `reservationId` is the caller's idempotency key: a retry returns
 * the same hold. The hold ends by `settle` (the real cost, one ledger row) or `release` (nothing
 * charged, no row), exactly once; a sweep releases holds left past `expiresAt`.
 */
export async function reserve(
  orgId: string,
  reservationId: string,
  amount: number,
  options: { purpose?: string; holdMinutes?: number } = {},
) {
  const { item, writes } = reserveWrites(orgId, reservationId, amount, options);
  const outcome = await transactWrite(writes);
  if (!outcome.canceled) return item;
  if (outcome.reasons[0] === 'ConditionalCheckFailed') {
    const existing = await getReservation(orgId, reservationId);
    if (existing.amount !== amount) throw new ConflictError('This reservation id was used for another amount');
    return existing;
  }
  throw new PaymentRequiredError('The organization does not have enough credits to start this');
}

/**
 * The writes of a reservation, for a caller that needs them inside its own transaction (the
 * gateway checks its limits in the same one). In order: the hold (fails when the id was used),
 * then the account (fails when `available` is short).
 */
export function reserveWrites(
  orgId: string,
  reservationId: string,
  amount: number,
  options: { purpose?: string; holdMinutes?: number } = {},
) {
  checkAmount(amount);
  const { holdMinutes = DEFAULT_HOLD_MINUTES } = options;
  // A hold of no length or less is already over, for the sweep to release (tests backdate holds so).
  if (!(Number.isFinite(holdMinutes) && holdMinutes <= MAX_HOLD_MINUTES))
    throw new ValidationError('A hold lasts a number of minutes', [
      { path: 'holdMinutes', message: `At most ${MAX_HOLD_MINUTES}` },
    ]);
  const now = Date.now();
  const item = {
    orgId,
    reservationId,
    amount,
    status: 'held' as const,
    purpose: options.purpose,
    expiresAt: new Date(now + holdMinutes * 60_000).toISOString(),
    shard: shardOf(reservationId, RESERVATION_SHARDS),
    createdAt: new Date(now).toISOString(),
  } as CreditReservation;
  const writes = [
    put(ledgerDb.reservation.create(item)),
    update(
      ledgerDb.account
        .update({ orgId })
        .subtract({ available: amount })
        .add({ reserved: amount })
        .where(({ available }, { gte }) => gte(available, amount)),
    ),
  ];
  return { item, writes };
}

export async function getReservation(orgId: string, reservationId: string): Promise<CreditReservation> {
  const { data } = await ledgerDb.reservation.get({ orgId, reservationId }).go({ consistent: true });
  if (!data) throw new NotFoundError('Reservation not found');
  return data;
}

/** Closes a held reservation, once; closed ones leave the table after their retention. */
function close(held: CreditReservation, status: 'settled' | 'released', settledAmount?: number) {
  const now = Date.now();
  return update(
    ledgerDb.reservation
      .patch({ orgId: held.orgId, reservationId: held.reservationId })
      // The sweep index is keyed by status: ElectroDB needs the rest of that key to move it.
      .composite({ shard: held.shard, expiresAt: held.expiresAt })
      .set({
        status,
        closedAt: new Date(now).toISOString(),
        ttl: Math.floor(now / 1000) + CLOSED_RETENTION_DAYS * 86_400,
        ...(settledAmount !== undefined ? { settledAmount } : {}),
      })
      .where(({ status: current }, { eq }) => eq(current, 'held'))
      // A hold that serves several calls closes on what was drawn from it, and what it held (`shrinkHeld`), when it was read.
      .where(({ drawn }, { eq, notExists }) => (held.drawn === undefined ? notExists(drawn) : eq(drawn, held.drawn)))
      .where(({ amount }, { eq }) => eq(amount, held.amount)),
  );
}

/**
 * Gives back `amount` of an open hold to `available`, keeping the rest held: a gateway lease past
 * its end keeps only what the call still running was promised (nothing, for a call on its
 * organization's own key: the hold stays open at 0), until that call's record closes it.
 * No ledger row (no balance changes). False when the hold is closed, or no longer holds what
 * `held` says (the caller's copy is then behind: the hold's close reads it again).
 */
export async function shrinkHeld(held: CreditReservation, amount: number): Promise<boolean> {
  checkAmount(amount);
  if (held.status !== 'held' || amount > held.amount) return false;
  const { orgId, reservationId } = held;
  const outcome = await transactWrite([
    update(
      ledgerDb.reservation
        .patch({ orgId, reservationId })
        .set({ amount: held.amount - amount })
        .where(({ status, amount: holding }, { eq }) => `${eq(status, 'held')} AND ${eq(holding, held.amount)}`),
    ),
    update(ledgerDb.account.update({ orgId }).add({ reserved: -amount, available: amount })),
  ]);
  return !outcome.canceled;
}

/**
 * One call's charge against a hold that serves several calls (a gateway container's lease):
 * counted on the hold while it is open, and settled with the rest when it closes (`closeHeld`),
 * so the calls of a lease touch neither the account nor the ledger one by one. Fails (in its
 * transaction) when the hold is no longer held.
 */
export function drawWrite(held: CreditReservation, amount: number): WriteItem {
  checkAmount(amount);
  return update(
    ledgerDb.reservation
      .update({ orgId: held.orgId, reservationId: held.reservationId })
      .add({ drawn: amount })
      .where(({ status }, { eq }) => eq(status, 'held')),
  );
}

/**
 * Closes a hold as it stands: what was drawn from it is settled (one ledger row), the rest
 * returns to `available`; nothing drawn, it is released. `withWrites` land in the same
 * transaction. False when it was closed before (or drawn from since it was read).
 */
export async function closeHeld(held: CreditReservation, links: Links = {}, withWrites: WriteItem[] = []): Promise<boolean> {
  if (held.status !== 'held') return false;
  if (held.drawn) return (await settleHeld(held, held.drawn, links, withWrites)).settled;
  const outcome = await transactWrite([
    close(held, 'released'),
    update(ledgerDb.account.update({ orgId: held.orgId }).add({ reserved: -held.amount, available: held.amount })),
    ...withWrites,
  ]);
  return !outcome.canceled;
}

export type SettleOutcome =
  { settled: true; charged: number; transaction: CreditTransaction } | { settled: false; status: CreditReservation['status'] };

/**
 * Charges the real cost of reserved work. What was held and not used returns to
 * `available`; a cost above the hold takes the difference from `available` if it can, and
 * otherwise charges the hold and records the shortfall (the balance never goes negative).
 * Only one of settle and release ever wins for a reservation.
 */
export async function settle(orgId: string, reservationId: string, actual: number, links: Links = {}): Promise<SettleOutcome> {
  return settleHeld(await getReservation(orgId, reservationId), actual, links);
}

/**
 * `settle` for a caller that holds the reservation it made (the gateway): no read first. `with`
 * adds the caller's own writes to the same transaction (a usage log), so they land exactly when
 * the charge does; given as a function, it is asked for the writes of the charge made (less than
 * `actual` when the balance is short), so that they can record what was charged.
 */
export async function settleHeld(
  held: CreditReservation,
  actual: number,
  links: Links = {},
  withWrites: WriteItem[] | ((charged: number) => WriteItem[]) = [],
): Promise<SettleOutcome> {
  if (!Number.isInteger(actual) || actual < 0 || actual > MAX_CREDITS)
    throw new ValidationError('Credits are whole numbers', [
      { path: 'actual', message: `A non-negative integer, at most ${MAX_CREDITS}` },
    ]);
  const { orgId, reservationId } = held;
  if (held.status !== 'held') return { settled: false, status: held.status };
  const key = `settle:${reservationId}`;
  const attempt = async (charge: number, metadata?: Record<string, unknown>) => {
    const extra = charge - held.amount;
    const account = ledgerDb.account.update({ orgId }).add({ reserved: -held.amount, available: held.amount - charge });
    const withHold = { ...links, metadata: { ...links.metadata, ...metadata, reserved: held.amount } };
    const row = ledgerRow(orgId, key, 'settle', -charge, withHold, reservationId);
    const outcome = await transactWrite([
      close(held, 'settled', charge),
      row.write,
      update(extra > 0 ? account.where(({ available }, { gte }) => gte(available, extra)) : account),
      ...(typeof withWrites === 'function' ? withWrites(charge) : withWrites),
    ]);
    return { outcome, row: row.item };
  };
  let charged = actual;
  let { outcome, row } = await attempt(actual);
  if (outcome.canceled && outcome.reasons[0] !== 'ConditionalCheckFailed' && outcome.reasons[2] === 'ConditionalCheckFailed') {
    charged = held.amount;
    ({ outcome, row } = await attempt(held.amount, { requested: actual, shortfall: actual - held.amount }));
  }
  if (outcome.canceled) return { settled: false, status: (await getReservation(orgId, reservationId)).status };
  return { settled: true, charged, transaction: row };
}

/**
 * Gives the hold back unused (what calls drew from a lease's hold is charged). Returns false
 * when it was already settled or released.
 */
export async function release(orgId: string, reservationId: string): Promise<boolean> {
  return closeHeld(await getReservation(orgId, reservationId), { description: 'Calls of an expired hold' });
}

/** Holds the sweep closes at once. */
const SWEEP_AT_ONCE = 8;

export interface SweepReport {
  closed: number;
  /** Holds whose close failed (throttled, refused past the retries): still held, for the next run. */
  failed: Array<{ orgId: string; reservationId: string; error: string }>;
  /** Expired holds not taken up because the run's time was nearly spent: still held, for the next run. */
  leftForNextRun: number;
}

/**
 * Closes every hold past its expiry (the schedule's job); a late settle that won first stays.
 * One hold that fails to close is reported and the sweep goes on: each shard is read oldest
 * first, so a hold failing run after run would otherwise hold back every hold after it. Once
 * `outOfTime` says so, it takes no more holds and finishes those under way (each close is one
 * transaction), so the run returns its report before the function's time runs out.
 */
export async function releaseExpiredReservations(now = new Date(), outOfTime: () => boolean = () => false): Promise<SweepReport> {
  const shards = await Promise.all(
    Array.from({ length: RESERVATION_SHARDS }, (_, shard) =>
      ledgerDb.reservation.query.byStatus({ status: 'held', shard }).lt({ expiresAt: now.toISOString() }).go({ pages: 'all' }),
    ),
  );
  const expired = shards.flatMap((s) => s.data);
  const report: SweepReport = { closed: 0, failed: [], leftForNextRun: 0 };
  let next = 0;
  const worker = async () => {
    while (next < expired.length && !outOfTime()) {
      const { orgId, reservationId } = expired[next++]!;
      try {
        if (await release(orgId, reservationId)) report.closed++;
      } catch (error) {
        report.failed.push({ orgId, reservationId, error: String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SWEEP_AT_ONCE, expired.length) }, worker));
  report.leftForNextRun = expired.length - next;
  return report;
}

export async function getBalance(orgId: string): Promise<Balance> {
  const { data } = await ledgerDb.account.get({ orgId }).go({ consistent: true });
  const available = data?.available ?? 0;
  const reserved = data?.reserved ?? 0;
  return { orgId, available, reserved, balance: available + reserved };
}

/** The last instant with a four-digit year: ISO strings past it (`+010000-…`) sort before every year. */
const LAST_INSTANT = '9999-12-31T23:59:59.999Z';
/** Below and above every ISO instant: a range with no `from` or `to` stays inside the ledger's keys. */
const FIRST = '0';
const LAST = '~';

/**
 * The exclusive key bound of an inclusive `to`. Rows sort by `createdAt#transactionId`, so a row
 * at exactly `to` sorts after the key `to` alone: the bound is the next millisecond, or none at
 * all when `to` is the last instant of year 9999 (the next one would sort first).
 */
const exclusiveEnd = (to: string) =>
  Date.parse(to) >= Date.parse(LAST_INSTANT) ? undefined : new Date(Date.parse(to) + 1).toISOString();

export async function listTransactions(
  orgId: string,
  options: { cursor?: string; limit?: number; type?: TransactionType; from?: string; to?: string },
) {
  const query = ledgerDb.transaction.query.byTime({ orgId });
  // Always both ends, inside the ledger's keys: gsi1 of an organization also holds its usage
  // logs, payments, invitations and API clients, which a `>=` or `<` alone runs into (DynamoDB's
  // Limit spent on rows ElectroDB drops, and cursors naming them). The end of `to` is a key no
  // row has (rows go on with `#transactionId`), so BETWEEN, inclusive, leaves out the next
  // millisecond; with no end (no `to`, or the last instant of year 9999) it is `~`.
  const through = options.to ? exclusiveEnd(options.to) : undefined;
  const ranged =
    options.from || options.to ? query.between({ createdAt: options.from ?? FIRST }, { createdAt: through ?? LAST }) : query;
  const filtered = options.type ? ranged.where(({ type }, { eq }) => eq(type, options.type!)) : ranged;
  const { data, cursor } = await pageOf(filtered, { cursor: options.cursor, limit: options.limit ?? 50, order: 'desc' });
  return { items: data, nextCursor: cursor };
}
