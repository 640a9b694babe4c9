import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Entity as ElectroEntity } from 'electrodb';
import * as libDynamodb from '@aws-sdk/lib-dynamodb';
import * as utilDynamodb from '@aws-sdk/util-dynamodb';
import { awsClientConfig, reuseSigners } from './aws.ts';
import { DocumentClient } from './documents.ts';
import { electrodbSdk } from './electrodb-sdk.ts';

// In a bundle, ElectroDB's `require`s of these two modules answer with these objects (electrodb-sdk.ts).
Object.assign(electrodbSdk['@aws-sdk/lib-dynamodb'], libDynamodb);
Object.assign(electrodbSdk['@aws-sdk/util-dynamodb'], utilDynamodb);

export { lazy } from './lazy.ts';

let documentClient: DocumentClient | undefined;

/** One DynamoDB document client per process, built on first use (not at import). */
export function dynamo(): DocumentClient {
  documentClient ??= new DocumentClient(
    reuseSigners(new DynamoDBClient({ ...awsClientConfig('dynamodb'), maxAttempts: 3, cacheMiddleware: true })),
    {
      removeUndefinedValues: true,
      convertEmptyValues: false,
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

/**
 * ElectroDB's Entity, every entity's class, with one default changed: a request that fails
 * rejects with the AWS SDK's own error (`originalErr`), whose name says what failed
 * (`ConditionalCheckFailedException`, `ValidationException`, …). ElectroDB's default builds an
 * Error before every request, to wrap a failure in it with the caller's stack, failed or not:
 * about 10 µs in a bundle, and 75 µs of a GetItem's 980 in the local server (measured
 * interleaved; under load `GET /v1/me` costs the server 1,702 µs of CPU against 1,736).
 * Node's async stack traces already show the awaiting callers. ElectroDB's own errors (a bad
 * cursor, a missing attribute) are unchanged.
 */
class PlatformEntity extends ElectroEntity<string, string, string, any> {}
export const Entity = PlatformEntity as unknown as typeof ElectroEntity;

interface Executes {
  go(method: string, parameters: unknown, config: { originalErr?: boolean }): Promise<unknown>;
}
const execute = (ElectroEntity.prototype as unknown as Executes).go;
(Entity.prototype as unknown as Executes).go = function go(this: Executes, method, parameters, config) {
  config.originalErr = true;
  return execute.call(this, method, parameters, config);
};

/** True when a write was refused by its condition. */
export const conditionFailed = (error: unknown): boolean =>
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
