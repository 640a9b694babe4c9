import { createHash } from 'node:crypto';
import { Entity, conditionFailed, dynamo, tableName } from '@platform/domain/shared/dynamo';
import { ConflictError, UnprocessableError, ValidationError } from '@platform/domain/shared/errors';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * `Idempotency-Key` on POSTs that create things: the first request with a key runs, later
 * ones with the same key (same caller, same route) get the stored answer back. A reuse
 * with another body is refused, as is one that arrives while the first is still running.
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

export async function claimIdempotencyKey(scope: string, key: string, body: string | undefined): Promise<Claim> {
  if (!IDEMPOTENCY_KEY_PATTERN.test(key))
    throw new ValidationError('Idempotency-Key must be 8–128 letters, digits or _.:-', [
      { path: 'headers.idempotency-key', message: 'Invalid format' },
    ]);
  const now = Math.floor(Date.now() / 1000);
  const payloadHash = hash(body);
  try {
    await records()
      .create({
        scope,
        key,
        payloadHash,
        status: 'in-progress',
        lockedUntil: now + IN_PROGRESS_SECONDS,
        ttl: now + RECORD_TTL_SECONDS,
      })
      .go();
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const { data } = await records().get({ scope, key }).go({ consistent: true });
    if (data && data.payloadHash !== payloadHash)
      throw new UnprocessableError('This Idempotency-Key was used with a different request body');
    if (data?.status === 'completed') return { kind: 'replay', response: data.response as APIGatewayProxyStructuredResultV2 };
    if (data && data.lockedUntil > now) throw new ConflictError('A request with this Idempotency-Key is still being processed');
    // The first attempt died mid-way: take the lock over.
    await records()
      .patch({ scope, key })
      .set({ lockedUntil: now + IN_PROGRESS_SECONDS })
      .go();
  }
  return {
    kind: 'run',
    complete: async (response) => {
      await records().patch({ scope, key }).set({ status: 'completed', response }).go();
    },
    abandon: async () => {
      await records().delete({ scope, key }).go();
    },
  };
}
