import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from './aws.ts';

export { lazy } from './lazy.ts';

let documentClient: DynamoDBDocumentClient | undefined;

/** One DynamoDB document client per process, built on first use (not at import). */
export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({ ...awsClientConfig('dynamodb'), maxAttempts: 3 }), {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  return documentClient;
}

export function tableName(): string {
  return process.env.TABLE_NAME ?? 'platform';
}

/** The service name every entity shares: keys read `$platform#…`. */
export const SERVICE = 'platform';

/** ElectroDB's configuration for an entity of the single table. */
export const entityConfig = () => ({ client: dynamo(), table: tableName() });
