import type { TestProject } from 'vitest/node';
import { startLocalCloud } from '@platform/local/cloud';

/** One local cloud for the whole run: DynamoDB Local, Cognito and the API on free ports. */
export default async function setup(project: TestProject) {
  const cloud = await startLocalCloud({ port: 0 });
  project.provide('cloud', {
    url: cloud.url,
    env: {
      LOCAL_CLOUD: '1',
      AWS_REGION: 'us-east-1',
      TABLE_NAME: cloud.tableName,
      DYNAMODB_ENDPOINT: cloud.dynamo.endpoint,
      COGNITO_ENDPOINT: cloud.cognito.endpoint,
      USER_POOL_ID: cloud.cognito.userPoolId,
      USER_POOL_CLIENT_ID: cloud.cognito.clientId,
      COGNITO_JWKS: JSON.stringify(cloud.cognito.jwks),
      LOCAL_MASTER_KEY: process.env.LOCAL_MASTER_KEY!,
    },
  });
  return async () => cloud.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    cloud: { url: string; env: Record<string, string> };
  }
}
