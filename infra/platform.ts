import { Tags, type App, type Environment } from 'aws-cdk-lib';
import type { RouteDefinition } from '@platform/http/route';
import { ApiStack } from './api-stack.ts';
import { AsyncStack } from './async-stack.ts';
import { AuthStack } from './auth-stack.ts';
import { APP_NAME, readConfig, type PlatformConfig } from './config.ts';
import { DataStack } from './data-stack.ts';

export interface PlatformOptions {
  routes: readonly RouteDefinition[];
  /** Defaults to `<repo>/functions`; tests pass a folder of fixture handlers. */
  functionsDir?: string;
  env?: Environment;
}

export interface Platform {
  config: PlatformConfig;
  data: DataStack;
  auth: AuthStack;
  async: AsyncStack;
  api: ApiStack;
}

/**
 * The whole backend of one stage: data → auth → api, and async beside them. Stack names
 * carry the stage (`platform-dev-data`), so stages share an account without colliding.
 */
export function buildPlatform(app: App, options: PlatformOptions): Platform {
  const config = readConfig(app.node);
  const env: Environment = options.env ?? {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    // Synth works offline and without credentials: the region falls back to us-east-1.
    region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  };
  const stackProps = (part: string, description: string) => ({
    env,
    stackName: `${config.prefix}-${part}`,
    description: `${config.prefix}: ${description}`,
    terminationProtection: config.isProduction,
  });

  const data = new DataStack(app, `${config.prefix}-data`, {
    ...stackProps('data', 'table, platform key, assets bucket'),
    config,
  });
  const auth = new AuthStack(app, `${config.prefix}-auth`, {
    ...stackProps('auth', 'Cognito user pool, hosted UI, app client, sign-up trigger'),
    config,
    table: data.table,
    key: data.key,
    ...(options.functionsDir ? { functionsDir: options.functionsDir } : {}),
  });
  const async = new AsyncStack(app, `${config.prefix}-async`, {
    ...stackProps('async', 'work queue, housekeeping pipeline, scheduled jobs, billing notifications'),
    config,
    table: data.table,
    key: data.key,
  });
  const api = new ApiStack(app, `${config.prefix}-api`, {
    ...stackProps('api', 'HTTP API, authorizers, one function per route'),
    config,
    routes: options.routes,
    table: data.table,
    key: data.key,
    userPool: auth.userPool,
    userPoolClient: auth.userPoolClient,
    ...(options.functionsDir ? { functionsDir: options.functionsDir } : {}),
  });

  Tags.of(app).add('app', APP_NAME);
  Tags.of(app).add('stage', config.stage);
  return { config, data, auth, async, api };
}
