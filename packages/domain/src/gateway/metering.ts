import { debit, release, reserveWrites, settleHeld } from '../billing/ledger.ts';
import type { CreditReservation } from '../billing/entities.ts';
import { limitWrites, type Subject } from '../billing/limits.ts';
import type { OrgAccess } from '../identity/access.ts';
import { ConflictError, PaymentRequiredError } from '../shared/errors.ts';
import { transactWrite, type WriteItem } from '../shared/transactions.ts';
import type { AgentType } from '../usage/entities.ts';
import { usageLogWrite, usageRecorded } from '../usage/logs.ts';
import { markModelHour, metricWrite, type MetricStatus } from './metrics.ts';
import { costOf, creditsFor, type Usage } from './pricing.ts';
import type { Candidate } from './types.ts';

/**
 * Metering of a gateway call, in two transactions around the provider call:
 * - `admit` before: the limits the call consumes and the credit reservation, all or nothing
 *   (a refused limit reserves nothing; a short balance counts no limit);
 * - `record` after: the settlement (or release), the usage log and the model metric, all or
 *   nothing, keyed by the request id, so a call is charged and recorded exactly once.
 * A BYOK call reserves and charges no credits but is logged the same way.
 */
export interface MeteredCall {
  access: OrgAccess;
  requestId: string;
  agentType: AgentType;
  /** What the route consumes (the manifest's `consumes`). */
  resource?: string;
}

const reservationIdOf = (call: MeteredCall) => `gw:${call.requestId}`;

function subjectsOf(access: OrgAccess): Subject[] {
  const caller = access.caller;
  return [
    { kind: 'org', id: access.orgId },
    caller.kind === 'apiClient' ? { kind: 'client', id: caller.clientId } : { kind: 'user', id: caller.userId },
  ];
}

/** Checks the limits and holds `credits` (none for BYOK) in one transaction; 429 or 402 otherwise. */
export async function admit(call: MeteredCall, credits: number): Promise<CreditReservation | undefined> {
  const { access } = call;
  const resources = [call.resource, access.caller.kind === 'apiClient' ? 'api' : undefined].filter((r): r is string => !!r);
  const limits = await limitWrites(access.org, subjectsOf(access), resources);
  const hold =
    credits > 0
      ? reserveWrites(access.orgId, reservationIdOf(call), credits, { purpose: 'gateway', holdMinutes: 15 })
      : undefined;
  const writes: WriteItem[] = [...limits.writes, ...(hold?.writes ?? [])];
  if (!writes.length) return undefined;
  const outcome = await transactWrite(writes);
  if (!outcome.canceled) return hold?.item;
  const limitReasons = outcome.reasons.slice(0, limits.writes.length);
  if (limitReasons.includes('ConditionalCheckFailed')) throw limits.refusal(limitReasons);
  const [holdReason, accountReason] = outcome.reasons.slice(limits.writes.length);
  if (holdReason === 'ConditionalCheckFailed') throw new ConflictError('This request id was already used');
  if (accountReason === 'ConditionalCheckFailed')
    throw new PaymentRequiredError(`The organization does not have the ${credits} credits this call may cost`);
  throw new ConflictError('The call could not be admitted; retry');
}

export interface CallRecord {
  candidate: Candidate | undefined;
  /** The model the client asked for, when no candidate was reached. */
  requestedModel: string;
  usage: Usage;
  status: MetricStatus;
  errorType?: string;
  requestAt: Date;
  responseAt: Date;
  firstTokenAt?: Date;
  metadata?: Record<string, unknown>;
}

export interface Recorded {
  credits: number;
  costMicros: number;
}

const USAGE_STATUS = { SUCCESS: 'success', ERROR: 'error', TIMEOUT: 'timeout' } as const;

/**
 * Settles (or releases) the hold and writes the usage log and the model metric together. Safe
 * to call again for the same request: the usage log's key makes a second record a no-op.
 */
export async function record(call: MeteredCall, held: CreditReservation | undefined, done: CallRecord): Promise<Recorded> {
  const { access, requestId } = call;
  const { candidate } = done;
  const cost = candidate
    ? costOf(candidate.pricing, done.usage)
    : { inputCostMicros: 0, outputCostMicros: 0, totalCostMicros: 0 };
  const charged = candidate?.keySource === 'platform' ? creditsFor(cost.totalCostMicros) : 0;
  const caller = access.caller;
  const at = done.requestAt.toISOString();
  const modelId = candidate?.modelId ?? done.requestedModel;
  const usage = usageLogWrite(
    {
      orgId: access.orgId,
      ...(caller.kind === 'apiClient' ? { apiClientId: caller.clientId } : { userId: caller.userId }),
      agentType: call.agentType,
      provider: candidate?.target.providerSlug ?? 'none',
      model: modelId,
      inputTokens: done.usage.inputTokens ?? 0,
      outputTokens: done.usage.outputTokens ?? 0,
      ...cost,
      credits: charged,
      requestAt: at,
      responseAt: done.responseAt.toISOString(),
      status: USAGE_STATUS[done.status],
      metadata: { requestId, keySource: candidate?.keySource, ...done.metadata },
    },
    `gw:${requestId}`,
  );
  const metric = metricWrite({
    modelId,
    orgId: access.orgId,
    provider: candidate?.target.providerSlug ?? 'none',
    at,
    latencyMs: done.responseAt.getTime() - done.requestAt.getTime(),
    firstTokenMs: done.firstTokenAt ? done.firstTokenAt.getTime() - done.requestAt.getTime() : undefined,
    inputTokens: done.usage.inputTokens ?? 0,
    outputTokens: done.usage.outputTokens ?? 0,
    costMicros: cost.totalCostMicros,
    status: done.status,
    errorType: done.errorType,
  });
  const links = { apiCallId: requestId, description: `${call.agentType} · ${modelId}` };
  let credits = 0;
  if (held && charged > 0) {
    const outcome = await settleHeld(held, charged, links, [usage.write, metric]);
    if (outcome.settled) credits = outcome.charged;
    else credits = await chargeWithoutHold(call, charged, links, [usage.write, metric]);
  } else {
    if (held) await release(access.orgId, held.reservationId);
    // All or nothing; a second record of the same call (its usage key exists) changes nothing.
    await transactWrite([usage.write, metric]);
  }
  await Promise.all([usageRecorded(usage.log), markModelHour(modelId, at)]);
  return { credits, costMicros: cost.totalCostMicros };
}

/**
 * The hold is gone (a sweep released it while a slow call ran): charge what was used directly,
 * as far as the balance goes, and record the call in any case.
 */
async function chargeWithoutHold(
  call: MeteredCall,
  charged: number,
  links: { apiCallId: string; description: string },
  writes: WriteItem[],
): Promise<number> {
  const outcome = await transactWrite(writes);
  if (outcome.canceled) return 0; // recorded before: charged then
  try {
    await debit(call.access.orgId, `settle:${reservationIdOf(call)}`, charged, links);
    return charged;
  } catch (error) {
    if (error instanceof PaymentRequiredError) return 0;
    throw error;
  }
}
