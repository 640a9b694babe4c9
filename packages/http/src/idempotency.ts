import { createHash } from 'node:crypto';
import { Entity, conditionFailed, dynamo, tableName } from '@platform/domain/shared/dynamo';
import { ConflictError, UnprocessableError, ValidationError } from '@platform/domain/shared/errors';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { RouteDefinition } from './route.ts';

type ShownOnce = NonNullable<RouteDefinition['shownOnce']>;

/**
 * `Idempotency-Key` on POSTs that create things: the first request with a key runs, later
 * ones with the same key (same caller, same route, same path parameters: the organization)
 * get the stored answer back. A reuse with another body is refused, as is one that arrives
 * while the first is still running.
 *
 * A secret shown once (a new API client's key) is never stored: the record keeps the answer
 * without it, and a replay of that creation is a 409 naming what was created, never the secret.
 */
const RECORD_TTL_SECONDS = 24 * 3600;
const IN_PROGRESS_SECONDS = 30;

let built: ReturnType<typeof buildRecord> | undefined;
/** Built on first use: only requests that send an Idempotency-Key pay for it. */
const records = () => (built ??= buildRecord());

const buildRecord = () =>
  new Entity(
    {
      model: { entity: 'idempotency', version: '1', service: 'platform' },
      attributes: {
        scope: { type: 'string', required: true },
        key: { type: 'string', required: true },
        payloadHash: { type: 'string', required: true },
        status: { type: ['in-progress', 'completed'] as const, required: true },
        lockedUntil: { type: 'number', required: true },
        response: { type: 'any' },
        ttl: { type: 'number', required: true },
      },
      indexes: {
        // Idempotency-Key values are the client's: case matters.
        byKey: { pk: { field: 'pk', composite: ['scope', 'key'], casing: 'none' }, sk: { field: 'sk', composite: [] } },
      },
    },
    { client: dynamo(), table: tableName() },
  );

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

const hash = (body: string | undefined) =>
  createHash('sha256')
    .update(body ?? '')
    .digest('base64url');

export type Claim =
  | { kind: 'run'; complete(response: APIGatewayProxyStructuredResultV2): Promise<void>; abandon(): Promise<void> }
  | { kind: 'replay'; response: APIGatewayProxyStructuredResultV2 };

/** The answer as the record keeps it: without the fields shown once. */
function storable(response: APIGatewayProxyStructuredResultV2, shownOnce?: ShownOnce): APIGatewayProxyStructuredResultV2 {
  if (!shownOnce || typeof response.body !== 'string') return response;
  try {
    const body = JSON.parse(response.body) as Record<string, unknown>;
    for (const field of shownOnce.fields) delete body[field];
    return { ...response, body: JSON.stringify(body) };
  } catch {
    return { ...response, body: undefined };
  }
}

/** A replay of a creation whose answer held a secret: what was created, and that its secret is gone. */
function secretShownOnce(response: APIGatewayProxyStructuredResultV2, { fields, idField, what }: ShownOnce) {
  let id: unknown;
  try {
    id = (JSON.parse(String(response.body)) as Record<string, unknown>)[idField];
  } catch {
    id = undefined;
  }
  const name = typeof id === 'string' ? `${what} ${id}` : `${what}`;
  return new ConflictError(
    `The ${name} was created by the earlier request with this Idempotency-Key; its ${fields.join(', ')} ` +
      `was shown only in that answer and is not kept, so it cannot be shown again. ` +
      `If you no longer have it, revoke the ${name} and create another.`,
  );
}

const stillProcessing = () => new ConflictError('A request with this Idempotency-Key is still being processed');

/**
 * The first attempt died mid-way (its lock lapsed) or gave its claim up, or its record expired:
 * take the claim over, under the condition that it is still the one read (same lock, still in
 * progress; still absent; or the same expired record). Two retries that both read the lapsed
 * lock cannot both run: the second is a 409.
 */
async function takeOver(
  scope: string,
  key: string,
  payloadHash: string,
  now: number,
  lockedUntil: number | undefined,
  expiredTtl?: number,
) {
  const lock = now + IN_PROGRESS_SECONDS;
  try {
    if (expiredTtl !== undefined) {
      await records()
        .put({ scope, key, payloadHash, status: 'in-progress', lockedUntil: lock, ttl: now + RECORD_TTL_SECONDS })
        .where(({ ttl }, { eq }) => eq(ttl, expiredTtl))
        .go();
      return lock;
    }
    if (lockedUntil === undefined) {
      await records()
        .create({ scope, key, payloadHash, status: 'in-progress', lockedUntil: lock, ttl: now + RECORD_TTL_SECONDS })
        .go();
      return lock;
    }
    await records()
      .patch({ scope, key })
      .set({ lockedUntil: lock })
      .where(({ lockedUntil: current, status }, { eq }) => `${eq(current, lockedUntil)} AND ${eq(status, 'in-progress')}`)
      .go();
    return lock;
  } catch (error) {
    if (conditionFailed(error)) throw stillProcessing();
    throw error;
  }
}

export async function claimIdempotencyKey(
  scope: string,
  key: string,
  body: string | undefined,
  options: { shownOnce?: ShownOnce } = {},
): Promise<Claim> {
  if (!IDEMPOTENCY_KEY_PATTERN.test(key))
    throw new ValidationError('Idempotency-Key must be 8–128 letters, digits or _.:-', [
      { path: 'headers.idempotency-key', message: 'Invalid format' },
    ]);
  const now = Math.floor(Date.now() / 1000);
  const payloadHash = hash(body);
  /** This claim's lock: what `complete` and `abandon` condition on. */
  let lock = now + IN_PROGRESS_SECONDS;
  try {
    await records()
      .create({ scope, key, payloadHash, status: 'in-progress', lockedUntil: lock, ttl: now + RECORD_TTL_SECONDS })
      .go();
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const { data } = await records().get({ scope, key }).go({ consistent: true });
    // Past its 24 hours, a record is gone for the client, whenever DynamoDB's TTL deletes it (up to days later).
    if (data && data.ttl <= now)
      return claimOf(scope, key, await takeOver(scope, key, payloadHash, now, undefined, data.ttl), options);
    if (data && data.payloadHash !== payloadHash)
      throw new UnprocessableError('This Idempotency-Key was used with a different request body');
    if (data?.status === 'completed') {
      const response = data.response as APIGatewayProxyStructuredResultV2;
      if (options.shownOnce && (response.statusCode ?? 200) < 300) throw secretShownOnce(response, options.shownOnce);
      return { kind: 'replay', response };
    }
    if (data && data.lockedUntil > now) throw stillProcessing();
    lock = await takeOver(scope, key, payloadHash, now, data?.lockedUntil);
  }
  return claimOf(scope, key, lock, options);
}

/** The claim of a request that runs, holding `lock`. */
function claimOf(scope: string, key: string, lock: number, options: { shownOnce?: ShownOnce }): Claim {
  // Both act only on this claim: a run so slow that its lock lapsed and a retry took the key
  // over leaves the record to that retry, which answers (and stores) for the key now.
  const takenOver = (error: unknown) => {
    if (!conditionFailed(error)) throw error;
  };
  return {
    kind: 'run',
    complete: async (response) => {
      await records()
        .patch({ scope, key })
        .set({ status: 'completed', response: storable(response, options.shownOnce) })
        .where(({ lockedUntil, status }, { eq }) => `${eq(lockedUntil, lock)} AND ${eq(status, 'in-progress')}`)
        .go()
        .catch(takenOver);
    },
    abandon: async () => {
      await records()
        .delete({ scope, key })
        .where(({ lockedUntil, status }, { eq }) => `${eq(lockedUntil, lock)} AND ${eq(status, 'in-progress')}`)
        .go()
        .catch(takenOver);
    },
  };
}
