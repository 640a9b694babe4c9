import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as libDynamodb from '@aws-sdk/lib-dynamodb';
import * as utilDynamodb from '@aws-sdk/util-dynamodb';
import { awsClientConfig } from './aws.ts';
import { electrodbSdk } from './electrodb-sdk.ts';

// In a bundle, ElectroDB's `require`s of these two modules answer with these objects (electrodb-sdk.ts).
Object.assign(electrodbSdk['@aws-sdk/lib-dynamodb'], libDynamodb);
Object.assign(electrodbSdk['@aws-sdk/util-dynamodb'], utilDynamodb);

export { lazy } from './lazy.ts';

let documentClient: libDynamodb.DynamoDBDocumentClient | undefined;

/** One DynamoDB document client per process, built on first use (not at import). */
export function dynamo(): libDynamodb.DynamoDBDocumentClient {
  documentClient ??= libDynamodb.DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...awsClientConfig('dynamodb'), maxAttempts: 3 }),
    {
      marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    },
  );
  return documentClient;
}

export function tableName(): string {
  return process.env.TABLE_NAME ?? 'platform';
}

/** The service name every entity shares: keys read `$platform#…`. */
export const SERVICE = 'platform';

/** ElectroDB's configuration for an entity of the single table. */
export const entityConfig = () => ({ client: dynamo(), table: tableName() });

/** True when an ElectroDB write was refused by its condition (ElectroDB wraps the SDK's error as `cause`). */
export const conditionFailed = (error: unknown): boolean =>
  (error as { cause?: { name?: string } } | undefined)?.cause?.name === 'ConditionalCheckFailedException';
