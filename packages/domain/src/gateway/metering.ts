import { GATEWAY_TIMEOUT_SECONDS } from './timeouts.ts';
import {
  closeHeld,
  debitWrites,
  drawWrite,
  getBalance,
  getReservation,
  reserveWrites,
  settleHeld,
  shrinkHeld,
  type Links,
} from '../billing/ledger.ts';
import type { CreditReservation } from '../billing/entities.ts';
import { limitSubjects, limitWrites, refundWrites, subjectKey, type CountedCounter, type Subject } from '../billing/limits.ts';
import type { OrgAccess } from '../identity/access.ts';
import { clock } from '../shared/clock.ts';
import { PaymentRequiredError, TooManyRequestsError } from '../shared/errors.ts';
import { transactWrite, type WriteItem, type WriteOutcome } from '../shared/transactions.ts';
import type { AgentType } from '../usage/entities.ts';
import { markUsageDay, usageLogWrite } from '../usage/logs.ts';
import { markModelHour, metricGroupOf, metricWrites, type MetricInput, type MetricStatus } from './metrics.ts';
import { costOf, countableUsage, creditsFor, type Usage } from './pricing.ts';
import type { Attempt } from './executor.ts';
import type { Candidate } from './types.ts';

/**
 * Metering of a gateway call: admission before the provider call (the limits it consumes and
 * a credit hold, all or nothing: a refused limit holds nothing, a short balance counts no
 * limit), the record after it (the charge, the usage log and the model metric, all or nothing,
 * keyed by the request id, so a call is charged and recorded exactly once).
 *
 * Admission leases keep DynamoDB off the request path under load. A container admits a call
 * from a lease: limit units and credits taken ahead in one transaction, given out in memory.
 * - A caller's first calls, and any call after a quiet second, lease one call: exactly one
 *   transaction before the call and one after, as without leases.
 * - Under sustained traffic a lease covers about a second of calls (at most `MAX_LEASE_UNITS`
 *   and `MAX_LEASE_CREDITS`); a call then makes no request before the provider call, and its
 *   record draws its charge from the lease's hold with the usage log and metric (one transaction).
 * - A lease serves one call at a time (as a Lambda container does) and new calls for
 *   `LEASE_MS` at most, never past a limit window. It then closes: what was drawn is settled
 *   as one ledger row, the rest of the hold and the unused limit units are given back. It
 *   closes at its end whether or not calls still come (a lease the caller stopped using, or
 *   one taken ahead and never used, gives everything back; one whose call still runs gives back
 *   then what no call was promised, and closes with that call's record): an unref'd timer closes it, and
 *   since a Lambda container is frozen between invocations, so does the container's next
 *   admission or record past that end; the record of a call waits for the closes under way.
 * - When a lease of several calls would pass a limit or the balance, the call is admitted on
 *   its own, so refusals (429, 402) come exactly where they would without leases. When even
 *   that is refused, the organization's leases in this container that no call is using (other
 *   callers' too) are closed first, giving back what they took ahead, and the call asked once more.
 *   Other containers' leases are not seen: they give back at their end, or the sweep's.
 * - A container that dies with a lease open leaves its hold to the sweep of expired holds,
 *   which settles what was drawn and releases the rest; its unused limit units stay counted
 *   until the window ends (at most one lease's worth, on the safe side).
 * A BYOK call holds and charges no credits but is logged the same way.
 */
export interface MeteredCall {
  access: OrgAccess;
  requestId: string;
  agentType: AgentType;
  /** What the route consumes (the manifest's `consumes`). */
  resource?: string;
}

/** The most calls, and credits, one lease takes ahead. */
export const MAX_LEASE_UNITS = 50;
export const MAX_LEASE_CREDITS = 2_000;
/** How long a lease admits new calls. */
export const LEASE_MS = 10_000;
/**
 * How long a lease's hold lives, for the sweep to close if its container dies: past the end of
 * the longest call the lease can admit (one admitted at its end streams as long as the gateway
 * function runs), so that the sweep never gives back under a running call what was promised to it.
 */
const LEASE_HOLD_MINUTES = Math.ceil((LEASE_MS + GATEWAY_TIMEOUT_SECONDS * 1000) / 60_000);
const CALL_HOLD_MINUTES = 15;

interface Lease {
  key: string;
  orgId: string;
  /** The credit hold behind it, kept current as calls draw from it; none when it holds no credits. */
  held?: CreditReservation;
  /** Calls it may still admit, and credits of its hold not promised to a call or drawn. */
  units: number;
  credits: number;
  counters: CountedCounter[];
  /** Made for one call: it is settled with that call's record, as without leases. */
  single: boolean;
  /** Calls it was opened for; when half are used the next lease is taken ahead. */
  size: number;
  renewing?: boolean;
  validUntil: number;
  busy: boolean;
  calls: number;
  /** Draws of its calls on their way to the table: the lease closes after them. */
  drawing: Set<Promise<unknown>>;
  /** Past its end while a call used it: what no call was promised, on its way back (`giveBackUnpromised`). */
  givingBack?: Promise<void>;
  closing?: Promise<void>;
}

/** What `admit` hands the call, for `record`. */
export interface Admission {
  lease: Lease;
  /** Recorded (a second record changes nothing). */
  recorded?: boolean;
  /** The credits promised to this call from the lease (its estimate). */
  credits: number;
}

interface Pool {
  leases: Lease[];
  /** Admissions this second and the one before: the demand a new lease is sized for. */
  second: number;
  thisSecond: number;
  lastSecond: number;
  /** The next lease, being taken ahead in the background. */
  opening?: Promise<void>;
}

const pools = new Map<string, Pool>();

/**
 * This container's open leases of several calls, each with the timer that closes it at its end
 * (a lease of one call is settled with that call's record). `nextEnd` is the soonest end, so a
 * call checks for ended leases with one comparison.
 */
const ending = new Map<Lease, ReturnType<typeof setTimeout>>();
let nextEnd = Infinity;
/** Closes under way: a record waits for them, so none is left half done when an invocation ends. */
const closings = new Set<Promise<void>>();

/** Lease time: the domain's clock (tests move it). */
const nowMs = () => clock.now().getTime();

/** Calls a lease opened now should cover: about a second of the caller's recent demand. */
let leaseUnits = (callsLastSecond: number, leasesInUse: number) =>
  Math.min(MAX_LEASE_UNITS, Math.max(1, Math.ceil(callsLastSecond / Math.max(1, leasesInUse))));

const defaultSizing = leaseUnits;
/** Tests: choose how leases are sized (`undefined` restores the default). */
export function setLeaseSizing(size?: typeof leaseUnits) {
  leaseUnits = size ?? defaultSizing;
}

/** Tests: this container forgets its leases without closing them (as when it dies). */
export function forgetLeases() {
  pools.clear();
  for (const timer of ending.values()) clearTimeout(timer);
  ending.clear();
  nextEnd = Infinity;
}

const resourcesOf = (call: MeteredCall) =>
  [call.resource, call.access.caller.kind === 'apiClient' ? 'api' : undefined].filter((r): r is string => !!r);

function poolOf(key: string): Pool {
  let pool = pools.get(key);
  if (!pool) {
    if (pools.size >= 10_000) pools.clear();
    pool = { leases: [], second: 0, thisSecond: 0, lastSecond: 0 };
    pools.set(key, pool);
  }
  const second = Math.floor(Date.now() / 1000);
  if (second !== pool.second) {
    pool.lastSecond = second === pool.second + 1 ? pool.thisSecond : 0;
    pool.thisSecond = 0;
    pool.second = second;
  }
  pool.thisSecond++;
  return pool;
}

/**
 * Admits a call that may cost up to `credits` (0 for BYOK): from an idle lease of this
 * caller that can cover it, else from a new one. 429 past a limit, 402 past the balance.
 */
export async function admit(call: MeteredCall, credits: number): Promise<Admission> {
  const resources = resourcesOf(call);
  const subjects = limitSubjects(call.access);
  const key = [call.access.orgId, subjectKey(subjects[1]!), ...resources].join('|');
  const pool = poolOf(key);
  closeEnded();
  const now = nowMs();
  const lease = pool.leases.find((l) => !l.busy && !l.closing && l.units > 0 && l.credits >= credits && now < l.validUntil);
  const size = () =>
    Math.min(
      leaseUnits(pool.lastSecond, pool.leases.filter((l) => l.busy).length + 1),
      credits > 0 ? Math.floor(MAX_LEASE_CREDITS / credits) : MAX_LEASE_UNITS,
    );
  if (lease) {
    const admission = take(lease, credits);
    // Half used: the next lease is taken ahead, in the background, so that no call waits for it.
    if (!lease.single && !lease.renewing && !pool.opening && lease.units <= lease.size / 2) {
      lease.renewing = true;
      pool.opening = open(call, subjects, resources, credits, Math.max(2, size()), key)
        .then((next) => keep(pool, next))
        .catch(() => undefined) // the next call opens one itself, and meets the refusal then
        .finally(() => (pool.opening = undefined));
    }
    return admission;
  }
  // Closed in the background; the next record of this caller waits for them (and reports a failure).
  for (const stale of pool.leases.filter((l) => !l.busy && !l.closing)) closeLease(stale).catch(() => undefined);
  const units = size();
  const opened = (units > 1 && (await open(call, subjects, resources, credits, units, key).catch(() => undefined))) || undefined;
  const fresh = opened ?? (await open(call, subjects, resources, credits, 1, key).catch((refused) => retried(refused)));
  keep(pool, fresh);
  return take(fresh, credits);

  /** Refused on its own: what this container's idle leases of the organization hold may be what the call needs. */
  async function retried(refused: unknown) {
    const refusal = refused instanceof PaymentRequiredError || refused instanceof TooManyRequestsError;
    if (!refusal || !(await closeIdleLeases(call.access.orgId))) throw refused;
    return open(call, subjects, resources, credits, 1, key);
  }
}

/**
 * Closes this container's leases of an organization that no call is using, of every caller (the
 * ones being taken ahead once they are), and waits for them and the closes under way: the credits
 * and limit units they held are back. Whether there was any.
 */
async function closeIdleLeases(orgId: string): Promise<boolean> {
  const ours = [...pools].filter(([key]) => key.startsWith(`${orgId}|`)).map(([, pool]) => pool);
  await Promise.all(ours.map((pool) => pool.opening));
  const closes = ours.flatMap((pool) => pool.leases.filter((l) => l.closing || !l.busy)).map((l) => closeLease(l));
  await Promise.allSettled(closes);
  return closes.length > 0;
}

/** A new lease joins its caller's pool; one of several calls is closed at its end if no call closes it first. */
function keep(pool: Pool, lease: Lease) {
  pool.leases.push(lease);
  if (lease.single) return;
  const timer = setTimeout(closeEnded, Math.max(0, lease.validUntil - nowMs()) + 1);
  // A lease must not keep a process alive: one that exits leaves the lease to the sweep, as one that dies.
  timer.unref?.();
  ending.set(lease, timer);
  nextEnd = Math.min(nextEnd, lease.validUntil);
}

/**
 * Closes this container's leases past their end that no call is using (the record of a call
 * using one closes it; what no call was promised goes back at the end all the same). Run by the
 * leases' timers and, for a container that was frozen past them (Lambda), by its next admission
 * or record: one comparison while no lease has ended.
 */
function closeEnded() {
  const now = nowMs();
  if (now < nextEnd) return;
  nextEnd = Infinity;
  for (const lease of ending.keys())
    if (now >= lease.validUntil && !lease.busy) void closeLease(lease).catch(() => undefined);
    else {
      if (now >= lease.validUntil) void giveBackUnpromised(lease).catch(() => undefined);
      nextEnd = Math.min(nextEnd, lease.validUntil);
    }
}

/**
 * A lease at its end while a call uses it (a stream may run for minutes): what no call was
 * promised goes back now, as its close would give it back (the rest of the hold, the unused limit
 * units), rather than when that call ends; the call's promise stays held until its record, which
 * closes the lease. Once; the close waits for it.
 */
function giveBackUnpromised(lease: Lease): Promise<void> {
  lease.givingBack ??= (async () => {
    const { held } = lease;
    const spare = Math.max(0, lease.credits);
    const units = lease.units;
    // Nothing more is admitted or drawn from them: the running call's record draws its promise alone.
    lease.credits -= spare;
    lease.units = 0;
    const shrink = async () => {
      if (held?.status === 'held' && spare > 0 && (await shrinkHeld(held, spare))) held.amount -= spare;
    };
    // Apart from each other, as at a close: a counter refused must not keep the credits held.
    const refunds = refundWrites(lease.counters, units);
    await Promise.all([shrink(), refunds.length ? transactWrite(refunds) : undefined]);
  })();
  return lease.givingBack;
}

function take(lease: Lease, credits: number): Admission {
  lease.busy = true;
  lease.units--;
  lease.credits -= credits;
  lease.calls++;
  return { lease, credits };
}

/** Takes `units` limit units and `units × credits` credits in one transaction; 429 / 402 when refused. */
async function open(call: MeteredCall, subjects: Subject[], resources: string[], credits: number, wanted: number, key: string) {
  const { access } = call;
  const now = new Date();
  const limits = await limitWrites(access.org, subjects, resources, now, wanted);
  const units = limits.writes.length ? limits.units : wanted;
  const amount = credits * units;
  const single = units === 1;
  const hold =
    amount > 0
      ? reserveWrites(access.orgId, `gw:${call.requestId}`, amount, {
          purpose: single ? 'gateway' : 'gateway-lease',
          holdMinutes: single ? CALL_HOLD_MINUTES : LEASE_HOLD_MINUTES,
        })
      : undefined;
  const writes: WriteItem[] = [...limits.writes, ...(hold?.writes ?? [])];
  if (writes.length) {
    const outcome = await transactWrite(writes);
    if (outcome.canceled) {
      const limitReasons = outcome.reasons.slice(0, limits.writes.length);
      if (limitReasons.includes('ConditionalCheckFailed')) throw limits.refusal(limitReasons);
      throw new PaymentRequiredError(`The organization does not have the ${credits} credits this call may cost`);
    }
  }
  const ends = Math.min(...limits.counters.map((c) => c.resetsAt.getTime()), nowMs() + LEASE_MS);
  return {
    key,
    orgId: access.orgId,
    held: hold?.item,
    units,
    credits: amount,
    counters: limits.counters,
    single,
    size: units,
    validUntil: ends,
    busy: false,
    calls: 0,
    drawing: new Set(),
  } satisfies Lease as Lease;
}

/** Settles what the lease's calls drew, gives back the rest of its hold and its unused units; once. */
function closeLease(lease: Lease): Promise<void> {
  if (lease.closing) return lease.closing;
  clearTimeout(ending.get(lease));
  ending.delete(lease);
  const closing = (async () => {
    await Promise.allSettled([...lease.drawing, lease.givingBack]);
    const held = lease.held;
    if (held?.status === 'held') {
      await closeHold(held, { description: `gateway · ${lease.calls} calls`, metadata: { calls: lease.calls } });
      held.status = 'settled';
    }
    // Apart from the hold: a counter refused (its window ended meanwhile) must not keep the credits held.
    const refunds = refundWrites(lease.counters, lease.units);
    if (refunds.length) await transactWrite(refunds);
  })().finally(() => {
    const pool = pools.get(lease.key);
    if (pool) pool.leases = pool.leases.filter((l) => l !== lease);
    closings.delete(closing);
  });
  lease.closing = closing;
  closings.add(closing);
  return closing;
}

/**
 * Settles what was drawn from a lease's hold and releases the rest. The hold closes only on the
 * `drawn` it has in the table: when ours is behind it (a draw whose answer was lost), the hold is
 * read again and closed as it stands, so it is settled once whatever the interleaving (a hold
 * closed meanwhile, by the sweep, stays as it is).
 */
async function closeHold(held: CreditReservation, links: Links) {
  let current = held;
  for (let attempt = 0; attempt < 3 && current.status === 'held'; attempt++) {
    if (await closeHeld(current, links)) return;
    current = await getReservation(held.orgId, held.reservationId);
  }
}

/**
 * Group commit of the records: while one transaction of records is in flight, records that
 * arrive wait and go together in the next one (at most `MAX_TRANSACTION_ITEMS` items). A Lambda
 * container runs one call at a time, so there each record is its own transaction; a host that
 * runs calls concurrently (the local server) writes fewer, larger ones.
 *
 * Records that draw from the same hold (the calls of one lease) share one draw of their sum: a
 * transaction never names an item twice, and one record per hold and transaction could not
 * keep up with a lease's calls (its queue, and the memory behind it, would only grow). Their
 * metrics of one model, hour and shard (by organization) share one item (`metricWrites`).
 * When a batch does not land (one of its records was recorded before, a hold was swept), each
 * record is written again on its own, with its own draw, so each keeps its own outcome.
 */
const MAX_TRANSACTION_ITEMS = 100;
interface Draw {
  held: CreditReservation;
  amount: number;
}
interface PendingRecord {
  usage: WriteItem;
  metrics: MetricInput[];
  /** Its charge, drawn from a lease's hold. */
  draw?: Draw;
  done(outcome: WriteOutcome): void;
  fail(error: unknown): void;
}
const pending: PendingRecord[] = [];
let committing = false;

function commit(usage: WriteItem, metrics: MetricInput[], draw?: Draw): Promise<WriteOutcome> {
  return new Promise((done, fail) => {
    pending.push({ usage, metrics, draw, done, fail });
    if (!committing) void commitPending();
  });
}

/** A record's own writes, its draw first (a failed condition there reads as `reasons[0]`). */
const ownWrites = (record: PendingRecord) =>
  (record.draw ? [drawWrite(record.draw.held, record.draw.amount)] : []).concat(record.usage, metricWrites(record.metrics));

/** The next batch, taken from the queue in order: as many records as fit in one transaction. */
function nextBatch(): { records: PendingRecord[]; writes: WriteItem[] } {
  const draws = new Map<string, Draw>();
  const metricItems = new Set<string>();
  let items = 0;
  let taken = 0;
  for (const { metrics, draw } of pending) {
    const sum = draw && draws.get(draw.held.reservationId);
    const groups = new Set(metrics.map(metricGroupOf).filter((group) => !metricItems.has(group)));
    const size = 1 + (draw && !sum ? 1 : 0) + groups.size;
    if (taken > 0 && items + size > MAX_TRANSACTION_ITEMS) break;
    if (draw) draws.set(draw.held.reservationId, { held: draw.held, amount: (sum?.amount ?? 0) + draw.amount });
    for (const group of groups) metricItems.add(group);
    items += size;
    taken++;
  }
  const records = pending.splice(0, taken);
  const writes = [...draws.values()]
    .map((d) => drawWrite(d.held, d.amount))
    .concat(
      records.map((r) => r.usage),
      metricWrites(records.flatMap((r) => r.metrics)),
    );
  return { records, writes };
}

async function commitPending() {
  committing = true;
  while (pending.length) {
    const batch = nextBatch();
    const alone = async () => {
      for (const record of batch.records) await transactWrite(ownWrites(record)).then(record.done, record.fail);
    };
    if (batch.records.length === 1) await alone();
    else {
      const outcome = await transactWrite(batch.writes).catch(() => undefined);
      if (outcome && !outcome.canceled) for (const record of batch.records) record.done(outcome);
      else await alone();
    }
  }
  committing = false;
}

export interface CallRecord {
  candidate: Candidate | undefined;
  /** The model the client asked for, when no candidate was reached. */
  requestedModel: string;
  usage: Usage;
  status: MetricStatus;
  errorType?: string;
  /**
   * A failure that was not the model's, for its metric (the usage log keeps `status` and
   * `errorType`): `request`, the client's own (a bad request, a refused prompt), is a call of the
   * model but none of its errors; `unsent`, refused before any provider received anything, is no
   * call of the model at all.
   */
  fault?: 'request' | 'unsent';
  requestAt: Date;
  responseAt: Date;
  firstTokenAt?: Date;
  /** The execution's attempt log: the models it passed over get a metric of their failures. */
  attempts?: readonly Attempt[];
  metadata?: Record<string, unknown>;
}

/**
 * The metrics of the models a call fell back from, one each: a model whose failures the call
 * routed around counts them in its error rate (and its latency, the time its attempts took),
 * as a call of no tokens. The model that answered, or failed last, has the call's own metric;
 * a candidate skipped while it cooled down was not called.
 */
function passedOver(attempts: readonly Attempt[] = [], call: MetricInput): MetricInput[] {
  const failures = new Map<string, Attempt[]>();
  for (const attempt of attempts) {
    if (!attempt.attempt || attempt.outcome === 'ok' || attempt.modelId === call.modelId) continue;
    failures.set(attempt.modelId, [...(failures.get(attempt.modelId) ?? []), attempt]);
  }
  return [...failures].map(([modelId, tried]) => {
    const last = tried.at(-1)!;
    return {
      modelId,
      orgId: call.orgId,
      provider: last.provider,
      at: call.at,
      recordedAt: call.recordedAt,
      latencyMs: tried.reduce((sum, attempt) => sum + attempt.durationMs, 0),
      inputTokens: 0,
      outputTokens: 0,
      costMicros: 0,
      status: last.outcome === 'timeout' ? 'TIMEOUT' : 'ERROR',
      errorType: last.outcome,
    };
  });
}

/**
 * The time a call spent on the models it fell back from before `modelId`'s first attempt (their
 * attempts and the backoffs after them): theirs (`passedOver`), not the latency of the model
 * that answered or failed last, whose metric starts after it. Nothing when the model had no attempt.
 */
function spentBefore(attempts: readonly Attempt[] = [], modelId: string): number {
  const first = attempts.findIndex((attempt) => attempt.modelId === modelId);
  return attempts.slice(0, Math.max(0, first)).reduce((sum, attempt) => sum + attempt.durationMs + (attempt.waitMs ?? 0), 0);
}

export interface Recorded {
  credits: number;
  costMicros: number;
}

const USAGE_STATUS = { SUCCESS: 'success', ERROR: 'error', TIMEOUT: 'timeout' } as const;

/** What a provider reported, to keep beside the counts made of it: a number past what JSON keeps exactly, as a string. */
const asReported = (usage: Usage) =>
  Object.fromEntries(
    Object.entries(usage).map(([name, value]) => [
      name,
      typeof value === 'number' && Math.abs(value) > Number.MAX_SAFE_INTEGER ? String(value) : value,
    ]),
  );

/**
 * Charges the call (from its hold) and writes its usage log and model metric together, then
 * frees its lease for the next call. Safe to call again for the same request: the usage log's
 * key makes a second record a no-op. The log's `credits` are what the ledger charged: when the
 * cost passes the hold and the balance, the hold alone, with `requested` and `shortfall` in its
 * metadata (as the ledger row has them).
 */
export async function record(call: MeteredCall, admission: Admission, done: CallRecord): Promise<Recorded> {
  const { access, requestId } = call;
  const { candidate } = done;
  const { usage: used, invalid } = countableUsage(done.usage);
  const cost = candidate ? costOf(candidate.pricing, used) : { inputCostMicros: 0, outputCostMicros: 0, totalCostMicros: 0 };
  const charged = candidate?.keySource === 'platform' ? creditsFor(cost.totalCostMicros) : 0;
  const caller = access.caller;
  const at = done.requestAt.toISOString();
  const modelId = candidate?.modelId ?? done.requestedModel;
  const usageLog = (credits: number) =>
    usageLogWrite(
      {
        orgId: access.orgId,
        // A key's call is also its member's (as limits count it): `?userId=` and the user's daily series include it.
        ...(caller.kind === 'apiClient' ? { apiClientId: caller.clientId, userId: caller.memberId } : { userId: caller.userId }),
        agentType: call.agentType,
        provider: candidate?.target.providerSlug ?? 'none',
        model: modelId,
        inputTokens: used.inputTokens ?? 0,
        outputTokens: used.outputTokens ?? 0,
        ...cost,
        credits,
        requestAt: at,
        responseAt: done.responseAt.toISOString(),
        status: USAGE_STATUS[done.status],
        metadata: {
          requestId,
          keySource: candidate?.keySource,
          // Why a call failed, for the log as for the metric: a stream that broke off has no other trace of it.
          ...(done.errorType ? { errorType: done.errorType } : {}),
          ...done.metadata,
          ...(invalid ? { usageInvalid: asReported(done.usage) } : {}),
          ...(credits < charged ? { requested: charged, shortfall: charged - credits } : {}),
        },
      },
      `gw:${requestId}`,
    );
  const usage = usageLog(charged);
  const started = done.requestAt.getTime() + spentBefore(done.attempts, modelId);
  const metric: MetricInput = {
    modelId,
    orgId: access.orgId,
    provider: candidate?.target.providerSlug ?? 'none',
    at,
    recordedAt: clock.nowIso(),
    latencyMs: done.responseAt.getTime() - started,
    firstTokenMs: done.firstTokenAt ? done.firstTokenAt.getTime() - started : undefined,
    inputTokens: used.inputTokens ?? 0,
    outputTokens: used.outputTokens ?? 0,
    costMicros: cost.totalCostMicros,
    ...(done.fault ? { status: 'SUCCESS' } : { status: done.status, errorType: done.errorType }),
  };
  const metrics = [...(done.fault === 'unsent' ? [] : [metric]), ...passedOver(done.attempts, metric)];
  const links = { apiCallId: requestId, description: `${call.agentType} · ${modelId}` };
  const { lease } = admission;
  const held = lease.held;
  const first = !admission.recorded;
  admission.recorded = true;
  // Its usage log (saying it was charged `credits`) and metric, for a transaction of its own.
  const own = (credits: number) => [(credits === charged ? usage : usageLog(credits)).write, ...metricWrites(metrics)];
  let credits = 0;
  // The organization's day, for the daily job: marked before the log is written (a request once a
  // day per container; a call meanwhile waits for the same one). The charge never depends on it:
  // a mark that failed is tried again once the call is recorded, and only then reported.
  const marking = markUsageDay(usage.log).then(
    () => true,
    () => false,
  );
  try {
    if (lease.single) {
      await marking;
      if (held && charged > 0) {
        const outcome = await settleHeld(held, charged, links, own);
        if (outcome.settled) credits = outcome.charged;
        else credits = await chargeWithoutHold(call, charged, links, own);
      } else if (held) {
        // Released with the records, or (recorded before) not at all.
        await closeHeld(held, links, own(0));
      } else await transactWrite(own(charged));
      if (held) held.status = 'settled';
    } else if (held && charged > 0 && held.status === 'held') {
      // The lease serves its next call while this draw is on its way (the draws of one hold that
      // wait go together as one); its credits count the draw now and get back what it did not draw.
      // A cost past what the lease can give (its promise to this call and what it promised no
      // call) draws that much, and the rest comes from the balance as far as it goes.
      const room = (first ? admission.credits : 0) + Math.max(0, lease.credits);
      const fromHold = Math.min(charged, room);
      const draw = marking.then(() =>
        charged <= room
          ? commit(usage.write, metrics, { held, amount: charged }).then(drawnBy(charged))
          : chargePastHold(call, charged, links, own, fromHold > 0 ? { held, amount: fromHold } : undefined),
      );
      // The hold learns what was drawn before anything waiting on the draw (a close) goes on.
      const drawing = draw.then((drawn) => {
        if (drawn !== 'swept' && drawn.drew > 0) held.drawn = (held.drawn ?? 0) + drawn.drew;
        return drawn;
      });
      lease.drawing.add(drawing);
      lease.credits -= fromHold;
      if (first) {
        lease.credits += admission.credits;
        lease.busy = false;
      }
      const drawn = await drawing.finally(() => lease.drawing.delete(drawing));
      lease.credits += fromHold - (drawn === 'swept' ? 0 : drawn.drew);
      if (drawn !== 'swept') credits = drawn.charged;
      else {
        held.status = 'released'; // swept while the call ran
        credits = await chargeWithoutHold(call, charged, links, own);
      }
    } else if (charged > 0) credits = await marking.then(() => chargeWithoutHold(call, charged, links, own));
    else await marking.then(() => commit(usage.write, metrics));
  } finally {
    if (first && lease.busy) {
      lease.credits += admission.credits;
      lease.busy = false;
    }
  }
  const pool = pools.get(lease.key);
  if (lease.single && pool) pool.leases = pool.leases.filter((l) => l !== lease);
  // Closed by the record of its last call (another may be using it now).
  const spent =
    !lease.busy && (lease.units <= 0 || nowMs() >= lease.validUntil || (held !== undefined && held.status !== 'held'));
  if (spent && !lease.single) void closeLease(lease).catch(() => undefined);
  closeEnded();
  await Promise.all([
    marking.then((marked) => (marked ? undefined : markUsageDay(usage.log))),
    ...metrics.map(markModelHour),
    // This container's closing and opening leases, so none is left half done when the invocation ends
    // (a failure to close this caller's lease is reported; another caller's is its own record's business).
    ...(pool?.leases ?? []).map((l) => l.closing),
    ...[...closings].map((c) => c.catch(() => undefined)),
    pool?.opening,
  ]);
  return { credits, costMicros: cost.totalCostMicros };
}

/** What a call of a lease drew from its hold and was charged in all; `swept` when the hold was no longer held. */
type Drawn = { drew: number; charged: number } | 'swept';

/** The draw of a group commit: landed, or failed at the hold (swept), or at the log (recorded before: nothing drawn). */
const drawnBy =
  (amount: number) =>
  (outcome: WriteOutcome): Drawn =>
    !outcome.canceled
      ? { drew: amount, charged: amount }
      : outcome.reasons[0] === 'ConditionalCheckFailed'
        ? 'swept'
        : { drew: 0, charged: 0 };

/**
 * A charge past what a hold covers: `draw` (the part its hold gives, if any) and the rest taken
 * from `available`, with the call's records, in one transaction. When `available` is short, the
 * hold's part alone is charged and the log records the shortfall, as `settleHeld` does (the
 * balance never goes below zero). Recorded before, it charges nothing.
 */
async function chargePastHold(
  call: MeteredCall,
  charged: number,
  links: Links,
  records: (credits: number) => WriteItem[],
  draw?: Draw,
): Promise<Drawn> {
  const covered = draw?.amount ?? 0;
  const drawing = draw ? [drawWrite(draw.held, covered)] : [];
  // Its own key: a lease's hold is settled under the hold's.
  const rest = debitWrites(call.access.orgId, `call:gw:${call.requestId}`, charged - covered, links);
  const whole = await transactWrite([...drawing, rest.row.write, rest.account, ...records(charged)]);
  if (!whole.canceled) return { drew: covered, charged };
  const swept = (outcome: WriteOutcome) => draw !== undefined && outcome.reasons[0] === 'ConditionalCheckFailed';
  if (swept(whole)) return 'swept';
  if (whole.reasons[drawing.length + 1] !== 'ConditionalCheckFailed') return { drew: 0, charged: 0 };
  const short = await transactWrite([...drawing, ...records(covered)]);
  if (!short.canceled) return { drew: covered, charged: covered };
  return swept(short) ? 'swept' : { drew: 0, charged: 0 };
}

/**
 * The hold is gone (a sweep released it while a slow call ran): charge what was used directly,
 * as far as the balance goes (short, what `available` still has, with `requested` and
 * `shortfall` in the ledger row's metadata as in the log's), and record the call in any case.
 * Recorded before, it charges nothing.
 */
async function chargeWithoutHold(
  call: MeteredCall,
  charged: number,
  links: Links,
  records: (credits: number) => WriteItem[],
): Promise<number> {
  const { orgId } = call.access;
  let amount = charged;
  // `available` read again when another charge took it meanwhile: a few times, then nothing is charged.
  for (let attempt = 0; attempt < 3 && amount > 0; attempt++) {
    const short = { ...links, metadata: { ...links.metadata, requested: charged, shortfall: charged - amount } };
    const debit = debitWrites(orgId, `call:gw:${call.requestId}`, amount, amount < charged ? short : links);
    const outcome = await transactWrite([debit.row.write, debit.account, ...records(amount)]);
    if (!outcome.canceled) return amount;
    if (outcome.reasons[1] !== 'ConditionalCheckFailed') return 0;
    amount = Math.min(charged, (await getBalance(orgId)).available);
  }
  await transactWrite(records(0));
  return 0;
}
