/**
 * The single table. CDK deploys it from this definition and the local cloud creates it
 * from the same one, so the two never drift.
 */
export const TTL_ATTRIBUTE = 'ttl';

export const tableKeys = {
  primary: { partitionKey: 'pk', sortKey: 'sk' },
  indexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
} as const;

export type IndexName = (typeof tableKeys.indexes)[number]['indexName'];

/** CreateTable input (DynamoDB API shape), used by the local cloud. */
export function createTableInput(tableName: string) {
  const attributes = [
    tableKeys.primary.partitionKey,
    tableKeys.primary.sortKey,
    ...tableKeys.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: tableKeys.primary.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: tableKeys.primary.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: tableKeys.indexes.map((i) => ({
      IndexName: i.indexName,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
  };
}
