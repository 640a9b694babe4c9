/**
 * Embedded local Cognito (cognito-local 5.3.0 wired in-process). See README.md in this folder for the quirks.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { pino, type Logger } from 'pino';
import type { Config } from 'cognito-local/lib/server/config.js';
import { Router } from 'cognito-local/lib/server/Router.js';
import { createServer } from 'cognito-local/lib/server/server.js';
import { DateClock } from 'cognito-local/lib/services/clock.js';
import { CognitoServiceFactoryImpl } from 'cognito-local/lib/services/cognitoService.js';
import { StormDBDataStoreFactory } from 'cognito-local/lib/services/dataStore/stormDb.js';
import type { Services } from 'cognito-local/lib/services/index.js';
import { MessageDeliveryService } from 'cognito-local/lib/services/messageDelivery/messageDelivery.js';
import { otp } from 'cognito-local/lib/services/otp.js';
import { UserPoolServiceFactoryImpl } from 'cognito-local/lib/services/userPoolService.js';
import { Outbox, OutboxMessageSender, OutboxMessages } from './outbox.js';
import { ensurePool, USER_POOL_ID } from './pool.js';
import { localRouter, type RouterState } from './router.js';
import { LocalTokenGenerator, PUBLIC_JWK, type LocalJwk } from './tokens.js';
import { InProcessLambda, LocalTriggers, REGION } from './triggers.js';

export { Outbox } from './outbox.js';
export type { OutboxMessage, OutboxMessageKind } from './outbox.js';
export type { LocalJwk } from './tokens.js';

export interface LocalCognitoOptions {
  /** 0 = a free port (default). */
  port?: number;
  /** Data directory (made absolute). Default: a new temp dir, deleted by stop(). */
  dataDir?: string;
  /** Where mail that Cognito would send goes. Default: a new Outbox. */
  outbox?: Outbox;
  /**
   * Called in-process exactly like a Lambda PostConfirmation trigger: for ConfirmSignUp / AdminConfirmSignUp
   * (triggerSource 'PostConfirmation_ConfirmSignUp') AND for ConfirmForgotPassword
   * ('PostConfirmation_ConfirmForgotPassword'), as AWS does. Must resolve to the event; a throw (or a non-object
   * result) fails the confirmation call like AWS does.
   */
  postConfirmation?: (event: PostConfirmationTriggerEvent) => Promise<unknown>;
  /** true: print nothing. false (default): one short line per sent code and per warning/error. */
  quiet?: boolean;
}

export interface LocalCognito {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  region: 'us-east-1';
  userPoolId: 'us-east-1_LocalDev1';
  /** App client: no secret, ALLOW_USER_PASSWORD_AUTH + ALLOW_REFRESH_TOKEN_AUTH. Stable across restarts. */
  clientId: string;
  /** https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LocalDev1, the `iss` of every token. */
  issuer: string;
  /** For CognitoJwtVerifier.cacheJwks(jwks). (`{ keys: unknown[] }` with precise key types, so no cast is needed.) */
  jwks: { keys: LocalJwk[] };
  outbox: Outbox;
  stop(): Promise<void>;
}

const ISSUER_DOMAIN = `https://cognito-idp.${REGION}.amazonaws.com`;

const makeLogger = (quiet: boolean): Logger => {
  if (quiet) return pino({ level: 'silent' });
  // cognito-local logs every rejected call at warn; keep it to one short line.
  return pino(
    { level: 'warn', base: null, timestamp: false },
    {
      write(line: string): void {
        try {
          const entry = JSON.parse(line) as { msg?: string; err?: { code?: string; message?: string } };
          const msg = (entry.msg ?? '').replace(/^Error handling target: (.*)$/, '$1 failed');
          const err = entry.err ? `: ${entry.err.code ? `${entry.err.code}: ` : ''}${entry.err.message ?? ''}` : '';
          process.stderr.write(`[local-cognito] ${msg}${err}\n`);
        } catch {
          process.stderr.write(`[local-cognito] ${line}`);
        }
      },
    },
  );
};

export async function startLocalCognito(opts: LocalCognitoOptions = {}): Promise<LocalCognito> {
  const quiet = opts.quiet ?? false;
  const createdTemp = opts.dataDir === undefined;
  const dataDir = opts.dataDir !== undefined ? resolve(opts.dataDir) : await mkdtemp(join(tmpdir(), 'local-cognito-'));
  await mkdir(dataDir, { recursive: true });

  try {
    const logger = makeLogger(quiet);
    const ctx = { logger };
    const clock = new DateClock();
    const dataStoreFactory = new StormDBDataStoreFactory(dataDir);
    const cognito = await new CognitoServiceFactoryImpl(
      dataDir,
      dataStoreFactory,
      new UserPoolServiceFactoryImpl(clock, dataStoreFactory),
    ).create(ctx, { UsernameAttributes: ['email'] });
    const { clientId } = await ensurePool(ctx, cognito, clock);

    const outbox = opts.outbox ?? new Outbox();
    const print = quiet ? undefined : (line: string): void => void process.stderr.write(`${line}\n`);
    const lambda = new InProcessLambda({ postConfirmation: opts.postConfirmation });
    const triggers = new LocalTriggers(clock, cognito, lambda);
    const serverOptions = { port: opts.port ?? 0, hostname: '127.0.0.1', development: false, https: false as const };
    const config: Config = {
      LambdaClient: {},
      TriggerFunctions: {},
      UserPoolDefaults: { UsernameAttributes: ['email'] },
      TokenConfig: { IssuerDomain: ISSUER_DOMAIN },
      ServerConfig: serverOptions,
    };
    const services: Services = {
      clock,
      cognito,
      config,
      messages: new OutboxMessages(cognito, new MessageDeliveryService(new OutboxMessageSender(outbox, print))),
      otp,
      tokenGenerator: new LocalTokenGenerator(clock, ISSUER_DOMAIN),
      triggers,
    };
    const issuer = `${ISSUER_DOMAIN}/${USER_POOL_ID}`;
    const state: RouterState = {
      revokedOrigins: new Set(),
      inFlight: new Set(),
      challengeSessions: new Map(),
      passwordHistory: new Map(),
    };
    const server = createServer(localRouter(services, Router(services), issuer, state), logger, serverOptions, services);
    const http = (await server.start()) as HttpServer;
    const { port } = http.address() as AddressInfo;

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        const closed = new Promise<void>((res, rej) => http.close((err) => (err ? rej(err) : res())));
        http.closeIdleConnections();
        // Let requests being processed finish writing to the data store (bounded wait).
        await Promise.race([Promise.allSettled([...state.inFlight]), new Promise((r) => setTimeout(r, 2000).unref())]);
        http.closeAllConnections();
        await closed;
        if (createdTemp) await rm(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    };

    return {
      endpoint: `http://127.0.0.1:${port}`,
      region: REGION,
      userPoolId: USER_POOL_ID,
      clientId,
      issuer,
      jwks: { keys: [{ ...PUBLIC_JWK }] },
      outbox,
      stop,
    };
  } catch (err) {
    if (createdTemp) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
