import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newId } from '@platform/domain/shared/ids';
import { dynamo } from '@platform/domain/shared/dynamo';
import { orgKey, userKey, PLATFORM, type Owner } from '@platform/domain/hub/owners';

/** Owners and counters for tests that call the hub's domain directly (integration tests). */
export const newOrgId = () => newId('org');

export const orgOwnerOf = (orgId: string, actorId = randomUUID()): Owner => ({
  kind: 'org',
  key: orgKey(orgId),
  orgId,
  actorId,
  actorType: 'user',
});

export const userOwnerOf = (userId = randomUUID()): Owner => ({
  kind: 'user',
  key: userKey(userId),
  userId,
  actorId: userId,
  actorType: 'user',
});

export const platformOwnerOf = (actorId = randomUUID()): Owner => ({
  kind: 'platform',
  key: PLATFORM,
  actorId,
  actorType: 'user',
});

/** A slug no other test uses: platform-wide things made by a test stay out of everyone else's way. */
export const uniqueSlug = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const counted = new WeakSet<DynamoDBDocumentClient>();
let sent: string[] = [];

/** The DynamoDB requests `work` makes in this process. */
export async function countRequests<T>(work: () => Promise<T>): Promise<{ result: T; requests: string[] }> {
  const client = dynamo();
  if (!counted.has(client)) {
    counted.add(client);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName).replace(/Command$/, ''));
        return next(args);
      },
      { step: 'initialize', name: 'testRequestCounter' },
    );
  }
  sent = [];
  const result = await work();
  const requests = sent;
  sent = [];
  return { result, requests };
}
