import { randomUUID } from 'node:crypto';
import type { DocumentClient } from '@platform/domain/shared/documents';
import { newId } from '@platform/domain/shared/ids';
import { dynamo } from '@platform/domain/shared/dynamo';
import { orgKey, userKey, PLATFORM, type Owner } from '@platform/domain/hub/owners';
import { saveProvider } from '@platform/domain/hub/providers';

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

const counted = new WeakSet<DocumentClient>();
let sent: string[] = [];

/** The DynamoDB requests `work` makes in this process. */
export async function countRequests<T>(work: () => Promise<T>): Promise<{ result: T; requests: string[] }> {
  const client = dynamo();
  if (!counted.has(client)) {
    counted.add(client);
    client.observe(({ operation }) => sent.push(operation));
  }
  sent = [];
  const result = await work();
  const requests = sent;
  sent = [];
  return { result, requests };
}

/** The HTTP status a domain call answers: 200 when it succeeds, its error's status when it throws. */
export const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (e: { status?: number }) => e.status,
  );

/** A routing rule's input sending TEXT calls to `targets`, equally weighted, with `extra` fields over it. */
export const ruleInput = (targets: string[], extra: Record<string, unknown> = {}) => ({
  name: 'Test rule',
  priority: 50,
  modelType: 'TEXT' as const,
  conditions: {},
  targets: targets.map((modelId) => ({ modelId, weight: 1 })),
  fallbacks: [] as string[],
  isActive: true,
  ...extra,
});

/** An active OpenAI-compatible provider that needs a key, any config, and has no catalogue model. */
export const saveKeyedProvider = (admin: Owner, slug: string, displayName = slug) =>
  saveProvider(admin, slug, {
    displayName,
    adapter: 'openai',
    requiresApiKey: true,
    requiresBaseUrl: false,
    supportsStreaming: true,
    capabilities: ['chat'],
    configSchema: { type: 'object' },
    group: { name: 'Test' },
    status: 'Active',
  });
