import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminAddUserToGroupCommand,
  AdminDisableUserCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  ChangePasswordCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  DescribeUserPoolCommand,
  ForgotPasswordCommand,
  GetUserCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  ListGroupsCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  ResendConfirmationCodeCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  SetUserMFAPreferenceCommand,
  SignUpCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Outbox, startLocalCognito, type LocalCognito } from './index.js';

// ---- RFC 6238 TOTP (SHA1, 30 s, 6 digits) with node:crypto only -------------------------------------------------
const base32Decode = (input: string): Buffer => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of input.replace(/=+$/, '').toUpperCase()) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
};
const hotp = (key: Buffer, counter: number, digits: number): string => {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', key).update(msg).digest();
  const offset = h.readUInt8(h.length - 1) & 0x0f;
  return String((h.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits).padStart(digits, '0');
};
const totp = (base32Secret: string, nowMs = Date.now()): string =>
  hotp(base32Decode(base32Secret), Math.floor(nowMs / 30_000), 6);

// ---- helpers -----------------------------------------------------------------------------------------------------
const sdkFor = (c: LocalCognito): CognitoIdentityProviderClient =>
  new CognitoIdentityProviderClient({
    endpoint: c.endpoint,
    region: c.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

const claimsOf = (jwt: string | undefined): Record<string, unknown> =>
  JSON.parse(Buffer.from(String(jwt).split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

const signIn = (sdk: CognitoIdentityProviderClient, clientId: string, username: string, password: string) =>
  sdk.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );

const refresh = (sdk: CognitoIdentityProviderClient, clientId: string, refreshToken: string | undefined) =>
  sdk.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: String(refreshToken) },
    }),
  );

const signUpAndConfirm = async (c: LocalCognito, sdk: CognitoIdentityProviderClient, email: string, password: string) => {
  const { UserSub } = await sdk.send(new SignUpCommand({ ClientId: c.clientId, Username: email, Password: password }));
  const code = c.outbox.latest(email)?.code;
  await sdk.send(new ConfirmSignUpCommand({ ClientId: c.clientId, Username: email, ConfirmationCode: String(code) }));
  return String(UserSub);
};

// ---- tests -------------------------------------------------------------------------------------------------------
describe('TOTP helper', () => {
  it('matches the RFC 6238 SHA1 test vector', () => {
    const key = Buffer.from('12345678901234567890', 'ascii');
    expect(hotp(key, Math.floor(59 / 30), 8)).toBe('94287082');
    expect(hotp(key, Math.floor(1111111109 / 30), 8)).toBe('07081804');
  });
});

describe('local Cognito end to end', () => {
  let cognito: LocalCognito;
  let sdk: CognitoIdentityProviderClient;
  const postConfirmation = vi.fn(async (event: PostConfirmationTriggerEvent): Promise<unknown> => event);

  const email = 'alice@example.com';
  let password = 'Al1ce-Passw0rd!';
  let sub = '';
  let tokens: { access: string; id: string; refresh: string } = { access: '', id: '', refresh: '' };
  let totpSecret = '';

  const accessVerifier = () => {
    const v = CognitoJwtVerifier.create({ userPoolId: cognito.userPoolId, tokenUse: 'access', clientId: cognito.clientId });
    v.cacheJwks(cognito.jwks);
    return v;
  };

  beforeAll(async () => {
    cognito = await startLocalCognito({ quiet: true, postConfirmation });
    sdk = sdkFor(cognito);
  });
  afterAll(async () => {
    sdk?.destroy();
    await cognito?.stop();
  });

  it('exposes the AWS-shaped pool identity and serves the JWKS', async () => {
    expect(cognito.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cognito.issuer).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LocalDev1');
    const served = await (await fetch(`${cognito.endpoint}/${cognito.userPoolId}/.well-known/jwks.json`)).json();
    expect(served).toEqual(cognito.jwks);
  });

  it('SignUp sends a verification code to the outbox', async () => {
    await expect(
      sdk.send(new SignUpCommand({ ClientId: cognito.clientId, Username: email, Password: 'short' })),
    ).rejects.toMatchObject({
      name: 'InvalidPasswordException',
    });

    const res = await sdk.send(new SignUpCommand({ ClientId: cognito.clientId, Username: email, Password: password }));
    expect(res.UserConfirmed).toBe(false);
    sub = String(res.UserSub);
    const mail = cognito.outbox.latest(email);
    expect(mail).toMatchObject({ to: email, kind: 'verification', subject: 'Your verification code' });
    expect(mail?.code).toMatch(/^\d{6}$/);
    expect(mail?.body).toContain(String(mail?.code));

    // ResendConfirmationCode (local shim) sends a fresh code; the latest one is the valid one.
    await sdk.send(new ResendConfirmationCodeCommand({ ClientId: cognito.clientId, Username: email }));
    expect(cognito.outbox.list({ to: email })).toHaveLength(2);
    expect(cognito.outbox.latest(email)).toMatchObject({ kind: 'verification' });
  });

  it('ConfirmSignUp calls postConfirmation once with the AWS event', async () => {
    const code = String(cognito.outbox.latest(email)?.code);
    const wrong = code === '000000' ? '111111' : '000000';
    await expect(
      sdk.send(new ConfirmSignUpCommand({ ClientId: cognito.clientId, Username: email, ConfirmationCode: wrong })),
    ).rejects.toMatchObject({ name: 'CodeMismatchException' });
    expect(postConfirmation).not.toHaveBeenCalled();

    await sdk.send(new ConfirmSignUpCommand({ ClientId: cognito.clientId, Username: email, ConfirmationCode: code }));
    expect(postConfirmation).toHaveBeenCalledTimes(1);
    await expect(
      sdk.send(new ConfirmSignUpCommand({ ClientId: cognito.clientId, Username: email, ConfirmationCode: code })),
    ).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    expect(postConfirmation).toHaveBeenCalledTimes(1);
    const event = postConfirmation.mock.calls[0]?.[0];
    expect(event).toMatchObject({
      version: '1',
      region: 'us-east-1',
      userPoolId: 'us-east-1_LocalDev1',
      userName: sub,
      triggerSource: 'PostConfirmation_ConfirmSignUp',
      callerContext: { clientId: cognito.clientId },
      request: { userAttributes: { sub, email, email_verified: 'true', 'cognito:user_status': 'CONFIRMED' } },
      response: {},
    });
  });

  it('ConfirmSignUp and ConfirmForgotPassword answer an unknown user as a wrong code (PreventUserExistenceErrors ENABLED)', async () => {
    const nobody = 'nobody-at-all@example.com';
    const mismatch = { name: 'CodeMismatchException' };
    await expect(
      sdk.send(new ConfirmSignUpCommand({ ClientId: cognito.clientId, Username: nobody, ConfirmationCode: '123456' })),
    ).rejects.toMatchObject(mismatch);
    await expect(
      sdk.send(
        new ConfirmForgotPasswordCommand({
          ClientId: cognito.clientId,
          Username: nobody,
          ConfirmationCode: '123456',
          Password: 'N3w-Passw0rd!',
        }),
      ),
    ).rejects.toMatchObject(mismatch);
  });

  it('USER_PASSWORD_AUTH returns tokens that the production CognitoJwtVerifier accepts', async () => {
    await expect(signIn(sdk, cognito.clientId, email, 'Wr0ng-password')).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });

    const res = await signIn(sdk, cognito.clientId, email, password);
    const r = res.AuthenticationResult;
    tokens = { access: String(r?.AccessToken), id: String(r?.IdToken), refresh: String(r?.RefreshToken) };

    const payload = await accessVerifier().verify(tokens.access);
    expect(payload).toMatchObject({ sub, username: sub, client_id: cognito.clientId, token_use: 'access', iss: cognito.issuer });
    expect(payload['cognito:groups']).toBeUndefined();
    expect(typeof payload.jti).toBe('string');
    expect(typeof payload['origin_jti']).toBe('string');

    const idVerifier = CognitoJwtVerifier.create({ userPoolId: cognito.userPoolId, tokenUse: 'id', clientId: cognito.clientId });
    idVerifier.cacheJwks(cognito.jwks);
    expect(await idVerifier.verify(tokens.id)).toMatchObject({ sub, email, email_verified: true, aud: cognito.clientId });

    // A verifier for another pool must refuse the token (iss check is real).
    const other = CognitoJwtVerifier.create({ userPoolId: 'us-east-1_Other', tokenUse: 'access', clientId: cognito.clientId });
    other.cacheJwks(cognito.jwks, 'us-east-1_Other');
    await expect(other.verify(tokens.access)).rejects.toThrow();
  });

  it('cognito:groups contains admin after AdminAddUserToGroup and a new sign-in', async () => {
    await sdk.send(new AdminAddUserToGroupCommand({ UserPoolId: cognito.userPoolId, Username: email, GroupName: 'admin' }));
    const res = await signIn(sdk, cognito.clientId, email, password);
    const payload = await accessVerifier().verify(String(res.AuthenticationResult?.AccessToken));
    expect(payload['cognito:groups']).toEqual(['admin']);
    tokens = {
      access: String(res.AuthenticationResult?.AccessToken),
      id: String(res.AuthenticationResult?.IdToken),
      refresh: String(res.AuthenticationResult?.RefreshToken),
    };
  });

  it('REFRESH_TOKEN_AUTH issues new tokens in the same session (same origin_jti)', async () => {
    const res = await refresh(sdk, cognito.clientId, tokens.refresh);
    expect(res.AuthenticationResult?.RefreshToken).toBeUndefined();
    const payload = await accessVerifier().verify(String(res.AuthenticationResult?.AccessToken));
    expect(payload.sub).toBe(sub);
    expect(payload['cognito:groups']).toEqual(['admin']);
    expect(payload.jti).not.toBe(claimsOf(tokens.access)['jti']);
    expect(payload['origin_jti']).toBe(claimsOf(tokens.access)['origin_jti']);

    await expect(refresh(sdk, cognito.clientId, 'not-a-token')).rejects.toMatchObject({ name: 'NotAuthorizedException' });
  });

  it('ForgotPassword puts a reset code in the outbox and ConfirmForgotPassword changes the password', async () => {
    await sdk.send(new ForgotPasswordCommand({ ClientId: cognito.clientId, Username: email }));
    const mail = cognito.outbox.latest(email);
    expect(mail).toMatchObject({ kind: 'password-reset', to: email });
    expect(mail?.code).toMatch(/^\d{6}$/);

    const newPassword = 'N3w-Passw0rd!';
    await sdk.send(
      new ConfirmForgotPasswordCommand({
        ClientId: cognito.clientId,
        Username: email,
        ConfirmationCode: String(mail?.code),
        Password: newPassword,
      }),
    );
    await expect(signIn(sdk, cognito.clientId, email, password)).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    password = newPassword;
    const res = await signIn(sdk, cognito.clientId, email, password);
    expect(res.AuthenticationResult?.AccessToken).toBeTruthy();

    // AWS also fires PostConfirmation for ConfirmForgotPassword: consumers must check triggerSource.
    expect(postConfirmation).toHaveBeenCalledTimes(2);
    expect(postConfirmation.mock.calls[1]?.[0].triggerSource).toBe('PostConfirmation_ConfirmForgotPassword');
    tokens = {
      access: String(res.AuthenticationResult?.AccessToken),
      id: String(res.AuthenticationResult?.IdToken),
      refresh: String(res.AuthenticationResult?.RefreshToken),
    };
  });

  it('TOTP MFA: enrol, then sign-in answers SOFTWARE_TOKEN_MFA and a valid code gives tokens', async () => {
    const { SecretCode } = await sdk.send(new AssociateSoftwareTokenCommand({ AccessToken: tokens.access }));
    expect(SecretCode).toMatch(/^[A-Z2-7]+=*$/);
    const secret = String(SecretCode);
    totpSecret = secret;

    const verified = await sdk.send(new VerifySoftwareTokenCommand({ AccessToken: tokens.access, UserCode: totp(secret) }));
    expect(verified.Status).toBe('SUCCESS');
    await sdk.send(
      new SetUserMFAPreferenceCommand({
        AccessToken: tokens.access,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      }),
    );

    const challenge = await signIn(sdk, cognito.clientId, email, password);
    expect(challenge.AuthenticationResult).toBeUndefined();
    expect(challenge.ChallengeName).toBe('SOFTWARE_TOKEN_MFA');
    expect(challenge.Session).toBeTruthy();

    const good = totp(secret);
    const bad = String((Number(good) + 500_000) % 1_000_000).padStart(6, '0');
    const respond = (code: string) =>
      sdk.send(
        new RespondToAuthChallengeCommand({
          ClientId: cognito.clientId,
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          Session: challenge.Session,
          ChallengeResponses: { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: code },
        }),
      );
    await expect(respond(bad)).rejects.toMatchObject({ name: 'CodeMismatchException' });
    const res = await respond(good);
    const payload = await accessVerifier().verify(String(res.AuthenticationResult?.AccessToken));
    expect(payload.sub).toBe(sub);
    tokens = {
      access: String(res.AuthenticationResult?.AccessToken),
      id: String(res.AuthenticationResult?.IdToken),
      refresh: String(res.AuthenticationResult?.RefreshToken),
    };
  });

  it('RevokeToken ends the session: its refresh token and access tokens stop working', async () => {
    // Refresh works before revocation (this refresh token comes from the MFA challenge, see README).
    const refreshed = await refresh(sdk, cognito.clientId, tokens.refresh);
    const refreshedAccess = String(refreshed.AuthenticationResult?.AccessToken);
    await sdk.send(new GetUserCommand({ AccessToken: refreshedAccess }));

    // A second session of the same user, to prove revocation is per session.
    const challenge = await signIn(sdk, cognito.clientId, email, password);
    const second = await sdk.send(
      new RespondToAuthChallengeCommand({
        ClientId: cognito.clientId,
        ChallengeName: 'SOFTWARE_TOKEN_MFA',
        Session: challenge.Session,
        ChallengeResponses: { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: totp(totpSecret) },
      }),
    );

    await sdk.send(new RevokeTokenCommand({ ClientId: cognito.clientId, Token: tokens.refresh }));
    await expect(refresh(sdk, cognito.clientId, tokens.refresh)).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    await expect(sdk.send(new GetUserCommand({ AccessToken: refreshedAccess }))).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Access Token has been revoked',
    });
    // Like AWS, the JWT itself still verifies offline: only Cognito's own APIs know about the revocation.
    await expect(accessVerifier().verify(refreshedAccess)).resolves.toBeTruthy();

    // The other session is untouched.
    const stillOk = await refresh(sdk, cognito.clientId, second.AuthenticationResult?.RefreshToken);
    await sdk.send(new GetUserCommand({ AccessToken: String(stillOk.AuthenticationResult?.AccessToken) }));
  });

  it('RespondToAuthChallenge accepts only a live session issued to that user, once; never for a disabled user', async () => {
    const answer = (session: string | undefined, username = email) =>
      sdk.send(
        new RespondToAuthChallengeCommand({
          ClientId: cognito.clientId,
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          Session: session,
          ChallengeResponses: { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: totp(totpSecret) },
        }),
      );
    const invalidSession = { name: 'NotAuthorizedException', message: 'Invalid session for the user.' };

    // Without the password step (a session it never issued), no tokens.
    await expect(answer('f'.repeat(36))).rejects.toMatchObject(invalidSession);

    // A session is answered once.
    const challenge = await signIn(sdk, cognito.clientId, email, password);
    await answer(challenge.Session);
    await expect(answer(challenge.Session)).rejects.toMatchObject(invalidSession);

    // Alice's session does not sign in another user.
    const erin = 'erin@example.com';
    await signUpAndConfirm(cognito, sdk, erin, 'Er1n-password!');
    const forAlice = await signIn(sdk, cognito.clientId, email, password);
    await expect(answer(forAlice.Session, erin)).rejects.toMatchObject(invalidSession);

    // An expired session (Cognito's last 3 minutes) is refused.
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      const late = await signIn(sdk, cognito.clientId, email, password);
      vi.setSystemTime(Date.now() + 3 * 60_000 + 1);
      await expect(answer(late.Session)).rejects.toMatchObject(invalidSession);
    } finally {
      vi.useRealTimers();
    }

    // A user disabled after the password step gets no tokens.
    const pending = await signIn(sdk, cognito.clientId, email, password);
    await sdk.send(new AdminDisableUserCommand({ UserPoolId: cognito.userPoolId, Username: email }));
    await expect(answer(pending.Session)).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'User is disabled.' });
  });

  it('GlobalSignOut (local shim) ends every session of the user; AdminDisableUser blocks sign-in', async () => {
    const bob = 'bob@example.com';
    const bobPassword = 'B0b-password!';
    await signUpAndConfirm(cognito, sdk, bob, bobPassword);
    const a = (await signIn(sdk, cognito.clientId, bob, bobPassword)).AuthenticationResult;
    const b = (await signIn(sdk, cognito.clientId, bob, bobPassword)).AuthenticationResult;
    await sdk.send(new GlobalSignOutCommand({ AccessToken: String(a?.AccessToken) }));
    await expect(refresh(sdk, cognito.clientId, a?.RefreshToken)).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    await expect(refresh(sdk, cognito.clientId, b?.RefreshToken)).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    await expect(sdk.send(new GetUserCommand({ AccessToken: String(b?.AccessToken) }))).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });

    await sdk.send(new AdminDisableUserCommand({ UserPoolId: cognito.userPoolId, Username: bob }));
    await expect(signIn(sdk, cognito.clientId, bob, bobPassword)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'User is disabled.',
    });
  });

  it('a failing postConfirmation fails ConfirmSignUp like AWS (UserLambdaValidationException)', async () => {
    postConfirmation.mockClear();
    postConfirmation.mockRejectedValueOnce(new Error('tenant store down'));
    const carol = 'carol@example.com';
    await sdk.send(new SignUpCommand({ ClientId: cognito.clientId, Username: carol, Password: 'C4rol-password!' }));
    const code = String(cognito.outbox.latest(carol)?.code);
    await expect(
      sdk.send(new ConfirmSignUpCommand({ ClientId: cognito.clientId, Username: carol, ConfirmationCode: code })),
    ).rejects.toMatchObject({
      name: 'UserLambdaValidationException',
      message: 'PostConfirmation failed with error tenant store down.',
    });
    expect(postConfirmation).toHaveBeenCalledTimes(1);
    // The confirmation really failed: the user is still UNCONFIRMED and the same code works on retry.
    await expect(signIn(sdk, cognito.clientId, carol, 'C4rol-password!')).rejects.toMatchObject({
      name: 'UserNotConfirmedException',
    });
    await sdk.send(new ConfirmSignUpCommand({ ClientId: cognito.clientId, Username: carol, ConfirmationCode: code }));
    expect(postConfirmation).toHaveBeenCalledTimes(2);
    await signIn(sdk, cognito.clientId, carol, 'C4rol-password!');

    // A handler that forgets to return the event is rejected too (AWS: "Unrecognizable lambda output").
    postConfirmation.mockResolvedValueOnce(undefined);
    const dave = 'dave@example.com';
    await sdk.send(new SignUpCommand({ ClientId: cognito.clientId, Username: dave, Password: 'D4ve-password!' }));
    await expect(
      sdk.send(
        new ConfirmSignUpCommand({
          ClientId: cognito.clientId,
          Username: dave,
          ConfirmationCode: String(cognito.outbox.latest(dave)?.code),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidLambdaResponseException' });
  });

  it('ConfirmForgotPassword confirms an UNCONFIRMED user through PostConfirmation_ConfirmForgotPassword; a failing trigger undoes it', async () => {
    const frank = 'frank@example.com';
    await sdk.send(new SignUpCommand({ ClientId: cognito.clientId, Username: frank, Password: 'Fr4nk-password!' }));
    await sdk.send(new ForgotPasswordCommand({ ClientId: cognito.clientId, Username: frank }));
    const reset = (code: string) =>
      sdk.send(
        new ConfirmForgotPasswordCommand({
          ClientId: cognito.clientId,
          Username: frank,
          ConfirmationCode: code,
          Password: 'N3w-Fr4nk-passw0rd!',
        }),
      );
    const code = String(cognito.outbox.latest(frank)?.code);

    postConfirmation.mockClear();
    postConfirmation.mockRejectedValueOnce(new Error('tenant store down'));
    await expect(reset(code)).rejects.toMatchObject({ name: 'UserLambdaValidationException' });
    // Still UNCONFIRMED with its old password and the same code: the reset really failed and can be retried.
    await expect(signIn(sdk, cognito.clientId, frank, 'Fr4nk-password!')).rejects.toMatchObject({
      name: 'UserNotConfirmedException',
    });

    await reset(code);
    expect(postConfirmation).toHaveBeenCalledTimes(2);
    expect(postConfirmation.mock.calls[1]?.[0]).toMatchObject({
      triggerSource: 'PostConfirmation_ConfirmForgotPassword',
      request: { userAttributes: { email: frank } },
    });
    expect((await signIn(sdk, cognito.clientId, frank, 'N3w-Fr4nk-passw0rd!')).AuthenticationResult?.AccessToken).toBeTruthy();
  });
});

describe('the password policy of the deployed pool', () => {
  let cognito: LocalCognito;
  let sdk: CognitoIdentityProviderClient;
  beforeAll(async () => {
    cognito = await startLocalCognito({ quiet: true });
    sdk = sdkFor(cognito);
  });
  afterAll(async () => {
    sdk?.destroy();
    await cognito?.stop();
  });

  it('wants 12 characters: 11 with every character class are refused', async () => {
    const pool = await sdk.send(new DescribeUserPoolCommand({ UserPoolId: cognito.userPoolId }));
    expect(pool.UserPool?.Policies?.PasswordPolicy).toMatchObject({ MinimumLength: 12, PasswordHistorySize: 5 });
    await expect(
      sdk.send(new SignUpCommand({ ClientId: cognito.clientId, Username: 'hana@example.com', Password: 'Passw0rd-Xy' })),
    ).rejects.toMatchObject({
      name: 'InvalidPasswordException',
      message: 'Password did not conform with policy: Password not long enough',
    });
    await signUpAndConfirm(cognito, sdk, 'hana@example.com', 'Passw0rd-Xyz');
  });

  it('refuses a reset or a set password among the last 5 (the current one too); an older one is accepted again', async () => {
    const gina = 'gina@example.com';
    const passwords = [
      'G1na-password-0',
      'G1na-password-1',
      'G1na-password-2',
      'G1na-password-3',
      'G1na-password-4',
      'G1na-password-5',
    ];
    await signUpAndConfirm(cognito, sdk, gina, passwords[0]!);
    const reset = async (password: string, code?: string) => {
      await sdk.send(new ForgotPasswordCommand({ ClientId: cognito.clientId, Username: gina }));
      const sent = String(cognito.outbox.latest(gina)?.code);
      return sdk.send(
        new ConfirmForgotPasswordCommand({
          ClientId: cognito.clientId,
          Username: gina,
          ConfirmationCode: code ?? sent,
          Password: password,
        }),
      );
    };
    const recent = { name: 'PasswordHistoryPolicyViolationException' };

    await expect(reset(passwords[0]!)).rejects.toMatchObject(recent);
    // A wrong code is refused as such first.
    await expect(reset(passwords[0]!, 'x')).rejects.toMatchObject({ name: 'CodeMismatchException' });
    for (const password of passwords.slice(1, 5)) await reset(password);
    // The current password and the four before it.
    await expect(reset(passwords[0]!)).rejects.toMatchObject(recent);
    await expect(
      sdk.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: cognito.userPoolId,
          Username: gina,
          Password: passwords[2]!,
          Permanent: true,
        }),
      ),
    ).rejects.toMatchObject(recent);
    await reset(passwords[5]!);
    await reset(passwords[0]!);
    const accessToken = (await signIn(sdk, cognito.clientId, gina, passwords[0]!)).AuthenticationResult?.AccessToken;
    const change = (proposed: string) =>
      sdk.send(
        new ChangePasswordCommand({ AccessToken: accessToken, PreviousPassword: passwords[0]!, ProposedPassword: proposed }),
      );
    await expect(change(passwords[5]!)).rejects.toMatchObject(recent);
    await change('G1na-password-6');
  });
});

describe('persistence and lifecycle', () => {
  it('a second start on the same dataDir reuses the pool, client, group and users; stop() frees the port', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'local-cognito-test-'));
    try {
      const first = await startLocalCognito({ dataDir, quiet: true });
      const sdk1 = sdkFor(first);
      const sub = await signUpAndConfirm(first, sdk1, 'erin@example.com', 'Er1n-password!');
      sdk1.destroy();
      await first.stop();

      const second = await startLocalCognito({ dataDir, quiet: true });
      const sdk2 = sdkFor(second);
      try {
        expect(second.clientId).toBe(first.clientId);
        const pools = await sdk2.send(new ListUserPoolsCommand({ MaxResults: 60 }));
        expect(pools.UserPools?.map((p) => p.Id)).toEqual(['us-east-1_LocalDev1']);
        const pool = await sdk2.send(new DescribeUserPoolCommand({ UserPoolId: second.userPoolId }));
        expect(pool.UserPool).toMatchObject({
          MfaConfiguration: 'OPTIONAL',
          UsernameAttributes: ['email'],
          AutoVerifiedAttributes: ['email'],
        });
        const clients = await sdk2.send(new ListUserPoolClientsCommand({ UserPoolId: second.userPoolId, MaxResults: 60 }));
        expect(clients.UserPoolClients?.map((c) => c.ClientId)).toEqual([second.clientId]);
        const groups = await sdk2.send(new ListGroupsCommand({ UserPoolId: second.userPoolId }));
        expect(groups.Groups?.map((g) => g.GroupName)).toEqual(['admin']);
        const res = await signIn(sdk2, second.clientId, 'erin@example.com', 'Er1n-password!');
        expect(claimsOf(res.AuthenticationResult?.AccessToken)['sub']).toBe(sub);
      } finally {
        sdk2.destroy();
        await second.stop();
      }

      const port = Number(new URL(second.endpoint).port);
      await expect(fetch(`${second.endpoint}/health`)).rejects.toThrow();
      await new Promise<void>((resolve, reject) => {
        const probe = createServer().once('error', reject);
        probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Outbox', () => {
  it('lists, filters case-insensitively, returns the latest and clears', () => {
    const outbox = new Outbox();
    outbox.add({ to: 'A@example.com', subject: 's1', body: 'b1', code: '1', kind: 'verification' });
    outbox.add({ to: 'b@example.com', subject: 's2', body: 'b2', kind: 'other' });
    const last = outbox.add({ to: 'a@example.com', subject: 's3', body: 'b3', code: '3', kind: 'password-reset' });
    expect(last.id).toBeTruthy();
    expect(new Date(last.at).getTime()).not.toBeNaN();
    expect(outbox.list()).toHaveLength(3);
    expect(outbox.list({ to: 'a@example.com' }).map((m) => m.code)).toEqual(['1', '3']);
    expect(outbox.latest('A@EXAMPLE.COM')?.code).toBe('3');
    outbox.clear();
    expect(outbox.list()).toEqual([]);
    expect(outbox.latest('a@example.com')).toBeUndefined();
  });
});
