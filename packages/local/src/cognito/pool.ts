import type { AppClient } from 'cognito-local/lib/services/appClient.js';
import type { Clock } from 'cognito-local/lib/services/clock.js';
import type { CognitoService } from 'cognito-local/lib/services/cognitoService.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { UserPool } from 'cognito-local/lib/services/userPoolService.js';
import { PASSWORD_POLICY } from '@platform/domain/identity/password-policy';
import { REGION } from './triggers.js';

export const USER_POOL_ID = 'us-east-1_LocalDev1' as const;
export const ADMIN_GROUP = 'admin';
const CLIENT_NAME = 'local-dev';
/** Fixed so that front-end .env files survive restarts; 26 chars of [a-z0-9] like a real Cognito client id. */
export const DEFAULT_CLIENT_ID = 'localdevclient000000000001';

/** Pool settings we own. Everything else (schema, custom attributes added via API, ...) is left as stored. */
const poolSettings = (): Omit<UserPool, 'CreationDate' | 'LastModifiedDate'> => ({
  Id: USER_POOL_ID,
  Name: 'LocalDev1',
  Arn: `arn:aws:cognito-idp:${REGION}:000000000000:userpool/${USER_POOL_ID}`,
  UsernameAttributes: ['email'],
  UsernameConfiguration: { CaseSensitive: false },
  AutoVerifiedAttributes: ['email'],
  MfaConfiguration: 'OPTIONAL',
  SoftwareTokenMfaConfiguration: { Enabled: true },
  AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
  Policies: {
    // The deployed pool's policy (infra/auth-stack.ts), so that local development refuses what AWS refuses.
    PasswordPolicy: {
      MinimumLength: PASSWORD_POLICY.minLength,
      RequireUppercase: PASSWORD_POLICY.requireUppercase,
      RequireLowercase: PASSWORD_POLICY.requireLowercase,
      RequireNumbers: PASSWORD_POLICY.requireDigits,
      RequireSymbols: PASSWORD_POLICY.requireSymbols,
      PasswordHistorySize: PASSWORD_POLICY.passwordHistorySize,
      TemporaryPasswordValidityDays: 7,
    },
  },
  VerificationMessageTemplate: {
    DefaultEmailOption: 'CONFIRM_WITH_CODE',
    EmailSubject: 'Your verification code',
    EmailMessage: 'Your verification code is {####}. ',
  },
  AdminCreateUserConfig: { AllowAdminCreateUserOnly: false, UnusedAccountValidityDays: 7 },
});

const clientSettings = (): Omit<AppClient, 'ClientId' | 'CreationDate' | 'LastModifiedDate'> => ({
  UserPoolId: USER_POOL_ID,
  ClientName: CLIENT_NAME,
  ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  EnableTokenRevocation: true,
  PreventUserExistenceErrors: 'ENABLED',
  // AWS defaults: 60 min access/id tokens, 30 day refresh tokens.
  AccessTokenValidity: 60,
  IdTokenValidity: 60,
  RefreshTokenValidity: 30,
  TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
});

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Create (or bring up to date) the pool, its `admin` group and the app client. Idempotent: on a data directory
 * that already has them, nothing is duplicated and users/groups are kept.
 */
export const ensurePool = async (ctx: Context, cognito: CognitoService, clock: Clock): Promise<{ clientId: string }> => {
  const now = clock.get();
  const existing = (await cognito.listUserPools(ctx)).find((p) => p.Id === USER_POOL_ID);
  if (!existing) {
    // CognitoServiceImpl.createUserPool merges cognito-local's AWS defaults (standard schema attributes, ...).
    await cognito.createUserPool(ctx, { ...poolSettings(), CreationDate: now, LastModifiedDate: now });
  }
  const pool = await cognito.getUserPool(ctx, USER_POOL_ID);
  if (existing) {
    const wanted: UserPool = { ...pool.options, ...poolSettings() };
    if (!sameJson(wanted, pool.options)) await pool.updateOptions(ctx, { ...wanted, LastModifiedDate: now });
  }

  // (getGroupByGroupName throws on a pool that has no group yet, listGroups does not)
  if (!(await pool.listGroups(ctx)).some((g) => g.GroupName === ADMIN_GROUP)) {
    await pool.saveGroup(ctx, {
      GroupName: ADMIN_GROUP,
      Description: 'Platform administrators',
      Precedence: 0,
      CreationDate: now,
      LastModifiedDate: now,
    });
  }

  const clients = await cognito.listAppClients(ctx, USER_POOL_ID);
  const client = clients.find((c) => c.ClientName === CLIENT_NAME);
  if (!client) {
    await pool.saveAppClient(ctx, { ...clientSettings(), ClientId: DEFAULT_CLIENT_ID, CreationDate: now, LastModifiedDate: now });
    return { clientId: DEFAULT_CLIENT_ID };
  }
  const wanted: AppClient = { ...client, ...clientSettings() };
  if (!sameJson(wanted, client)) await pool.saveAppClient(ctx, { ...wanted, LastModifiedDate: now });
  return { clientId: client.ClientId };
};
