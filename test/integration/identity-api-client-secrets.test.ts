import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { authorizeOrg, type UserCaller } from '@platform/domain/identity/access';
import { createApiClient } from '@platform/domain/identity/api-clients';
import { db } from '@platform/domain/identity/entities';
import { createOrganization } from '@platform/domain/identity/organizations';
import { provisionUser } from '@platform/domain/identity/users';
import { dynamo, tableName } from '@platform/domain/shared/dynamo';
import { sha256 } from '@platform/domain/shared/secrets';

/** Every item of a partition, exactly as DynamoDB stores it (no entity in between to drop a field). */
async function partition(pk: unknown) {
  const { Items } = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

describe('an API client’s key at rest (against DynamoDB Local)', () => {
  it('is stored only as the SHA-256 of its secret: the key appears in no item the creation wrote', async () => {
    const userId = randomUUID();
    await provisionUser({ userId, email: `key-at-rest-${userId.slice(0, 6)}@example.test`, emailVerified: true });
    const caller: UserCaller = { kind: 'user', userId, groups: [], isPlatformAdmin: false };
    const org = await createOrganization(caller, { name: 'Keys', slug: `keys-${randomUUID().slice(0, 8)}`, orgType: 'TEAM' });
    const created = await createApiClient(await authorizeOrg(caller, org.orgId), { name: 'ci', scopes: ['org:read'] });
    const [, secret] = created.key.split('.');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The client's own item, and the organization's partition (its audit event of the creation, its members, itself).
    const clientItems = await partition(
      (db.apiClient.get({ clientId: created.clientId }).params() as { Key: { pk: string } }).Key.pk,
    );
    const orgItems = await partition((db.organization.get({ orgId: org.orgId }).params() as { Key: { pk: string } }).Key.pk);
    expect(clientItems).toHaveLength(1);
    expect(clientItems[0]).toMatchObject({ clientId: created.clientId, secretHash: sha256(secret!) });
    expect(orgItems.some((item) => item.action === 'api-client.created' && item.targetId === created.clientId)).toBe(true);

    const stored = JSON.stringify([...clientItems, ...orgItems]);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(created.key);
    // Only the preview's last four characters of the secret are kept, as the answer shows them.
    expect(clientItems[0]!.keyPreview).toBe(`${created.clientId}.…${secret!.slice(-4)}`);
  });
});
