import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from './aws.ts';

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
