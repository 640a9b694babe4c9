import { afterEach, describe, expect, it, vi } from 'vitest';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { identityProvider } from '@platform/domain/identity/cognito';
import { db } from '@platform/domain/identity/entities';
import { TooManyRequestsError } from '@platform/domain/shared/errors';
import { localLambdaContext } from '@platform/local/lambda-context';
import { PASSWORD, api, errorPaths, latestMail, signIn, signUpUser } from '../helpers/api.ts';
import { routeEvent as eventOf } from '../helpers/lambda-event.ts';

/**
 * A route whose last step fails after an earlier one could not be undone (Cognito throttling it: a 429 asking
 * for a retry), then retried as told: the retry finishes the step. The handlers are invoked in-process, as Lambda
 * invokes them, so that Cognito can be made to throttle the step once; tests run one at a time in their own file
 * (the spies are this process's).
 */

type Reply = { statusCode: number; body?: string; headers?: Record<string, string> };

/** Cognito throttling a call once (TooManyRequestsException, as cognito.ts translates it). */
const throttledOnce = (method: 'signOutEverywhere' | 'disableEverywhere') =>
  vi.spyOn(identityProvider, method).mockImplementationOnce(async () => {
    throw new TooManyRequestsError('Too many requests, try again later', 5);
  });

const NEW_PASSWORD = 'An0ther-Str0ng-Passw0rd!';
const THIRD_PASSWORD = 'Th1rd-Str0ng-Passw0rd!';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a password reset whose sign-out everywhere is throttled', () => {
  const reset = async (body: { email: string; code: string; password: string }) => {
    const { handler } = await import('../../functions/identity/confirm-forgot-password.ts');
    const context = localLambdaContext('confirmForgotPassword', 'us-east-1', 60_000);
    return (await handler(eventOf('POST /v1/auth/confirm-forgot-password', { body }), context)) as Reply;
  };

  it('answers 429; the retry as told (same code, same password) answers 204 and the old devices are signed out (401)', async () => {
    const owner = await signUpUser('reset-retry');
    const thief = await signIn(owner.email);
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email: owner.email } })).status).toBe(202);
    const code = (await latestMail(owner.email, 'password-reset'))!.code!;
    const body = { email: owner.email, code, password: NEW_PASSWORD };

    throttledOnce('signOutEverywhere');
    const first = await reset(body);
    expect(first.statusCode, first.body).toBe(429);
    expect(first.headers?.['retry-after']).toBe('5');
    const retry = await reset(body);
    expect(retry.statusCode, retry.body).toBe(204);

    for (const refreshToken of [owner.refreshToken, thief.refreshToken]) {
      expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken } })).status).toBe(401);
      await expect(identityProvider.refresh(refreshToken)).rejects.toMatchObject({ status: 401 });
    }
    expect((await api('POST', '/v1/auth/sign-in', { body: { email: owner.email, password: NEW_PASSWORD } })).status).toBe(200);
  });

  it('a spent code with any other password stays a 400 on body.code and signs no one out', async () => {
    const owner = await signUpUser('reset-spent');
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email: owner.email } })).status).toBe(202);
    const code = (await latestMail(owner.email, 'password-reset'))!.code!;
    expect((await reset({ email: owner.email, code, password: NEW_PASSWORD })).statusCode).toBe(204);
    const device = await signIn(owner.email, NEW_PASSWORD);

    const again = await reset({ email: owner.email, code, password: `${NEW_PASSWORD}x` });
    expect(again.statusCode, again.body).toBe(400);
    expect(errorPaths(JSON.parse(again.body!))).toContain('body.code');
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: device.refreshToken } })).status).toBe(200);
  });

  it('a retry throttled again is a 429 again, and the next one finishes the sign-out (204)', async () => {
    const owner = await signUpUser('reset-retry-twice');
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email: owner.email } })).status).toBe(202);
    const code = (await latestMail(owner.email, 'password-reset'))!.code!;
    const body = { email: owner.email, code, password: NEW_PASSWORD };

    throttledOnce('signOutEverywhere');
    expect((await reset(body)).statusCode).toBe(429);
    throttledOnce('signOutEverywhere');
    expect((await reset(body)).statusCode).toBe(429);
    const retry = await reset(body);
    expect(retry.statusCode, retry.body).toBe(204);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } })).status).toBe(401);
  });

  it('a retry without the new password is a 400 on body.code, yet finishes the sign-out the reset asked for, once', async () => {
    const owner = await signUpUser('reset-retry-other');
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email: owner.email } })).status).toBe(202);
    const code = (await latestMail(owner.email, 'password-reset'))!.code!;
    throttledOnce('signOutEverywhere');
    expect((await reset({ email: owner.email, code, password: NEW_PASSWORD })).statusCode).toBe(429);

    const other = await reset({ email: owner.email, code, password: PASSWORD });
    expect(other.statusCode, other.body).toBe(400);
    expect(errorPaths(JSON.parse(other.body!))).toEqual(['body.code']);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } })).status).toBe(401);
    // Nothing is pending any more: a device signed in with the new password since is not signed out again.
    const device = await signIn(owner.email, NEW_PASSWORD);
    expect((await reset({ email: owner.email, code, password: NEW_PASSWORD })).statusCode).toBe(400);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: device.refreshToken } })).status).toBe(200);
  });

  it('a wrong code with no reset pending tries no password at Cognito (no lockout counted) and signs no one out', async () => {
    const owner = await signUpUser('reset-none-pending');
    const signInAtCognito = vi.spyOn(identityProvider, 'signIn');
    const signOutAtCognito = vi.spyOn(identityProvider, 'signOutEverywhere');
    const forged = await reset({ email: owner.email, code: '123456', password: PASSWORD });
    expect(forged.statusCode, forged.body).toBe(400);
    expect(errorPaths(JSON.parse(forged.body!))).toEqual(['body.code']);
    expect(signInAtCognito).not.toHaveBeenCalled();
    expect(signOutAtCognito).not.toHaveBeenCalled();
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } })).status).toBe(200);
  });
  it('a reset done in full ends an earlier one’s pending sign-out: a made-up code then tries no password, signs no one out', async () => {
    const owner = await signUpUser('reset-pending-ended');
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email: owner.email } })).status).toBe(202);
    const first = (await latestMail(owner.email, 'password-reset'))!.code!;
    throttledOnce('signOutEverywhere');
    expect((await reset({ email: owner.email, code: first, password: NEW_PASSWORD })).statusCode).toBe(429);
    // The owner asks again and finishes a new reset, its sign-out everywhere included.
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email: owner.email } })).status).toBe(202);
    const second = (await latestMail(owner.email, 'password-reset'))!.code!;
    const done = await reset({ email: owner.email, code: second, password: THIRD_PASSWORD });
    expect(done.statusCode, done.body).toBe(204);
    const device = await signIn(owner.email, THIRD_PASSWORD);

    const signInAtCognito = vi.spyOn(identityProvider, 'signIn');
    const forged = await reset({ email: owner.email, code: '123456', password: THIRD_PASSWORD });
    expect(forged.statusCode, forged.body).toBe(400);
    expect(signInAtCognito).not.toHaveBeenCalled();
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: device.refreshToken } })).status).toBe(200);
  });
});

describe('an account deletion whose disable at Cognito is throttled', () => {
  const deleteMe = async (userId: string) => {
    const { handler } = await import('../../functions/identity/delete-me.ts');
    return (await handler(eventOf('DELETE /v1/me', { userId }), localLambdaContext('deleteMe', 'us-east-1', 60_000))) as Reply;
  };

  it('answers 429, and meanwhile the deleted account’s password signs in nowhere (403) and opens no session', async () => {
    const user = await signUpUser('delete-throttled');
    throttledOnce('disableEverywhere');
    const first = await deleteMe(user.userId);
    expect(first.statusCode, first.body).toBe(429);
    const profile = async () => (await db.user.get({ userId: user.userId }).go({ consistent: true })).data;
    const deleted = await profile();
    expect(deleted?.deletedAt).toEqual(expect.any(String));

    const signedIn = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(403);
    const { data: sessions } = await db.session.query.byUser({ userId: user.userId }).go({ pages: 'all' });
    expect(sessions.map((s) => s.sessionId)).toEqual([user.sessionId]);
    expect((await profile())?.lastLoginAt).toBe(deleted?.lastLoginAt);
  });

  it('the retry as told answers 204 and stops the account at Cognito: no sign-in, no refresh there; then 404', async () => {
    const user = await signUpUser('delete-retry');
    throttledOnce('disableEverywhere');
    expect((await deleteMe(user.userId)).statusCode).toBe(429);
    const retry = await deleteMe(user.userId);
    expect(retry.statusCode, retry.body).toBe(204);

    await expect(identityProvider.signIn(user.email, PASSWORD)).rejects.toMatchObject({ status: 401 });
    await expect(identityProvider.refresh(user.refreshToken)).rejects.toMatchObject({ status: 401 });
    expect((await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } })).status).toBe(401);
    // Nothing is left to finish: a further retry finds the account gone.
    expect((await deleteMe(user.userId)).statusCode).toBe(404);
  });
});

describe('a sign-in refused by Cognito’s lockout', () => {
  it('is a 429 with Retry-After, to try again later, not "Incorrect credentials" (401)', async () => {
    const user = await signUpUser('lockout');
    // After repeated wrong passwords Cognito refuses even the right one for a while, saying so only in the message.
    const send = CognitoIdentityProviderClient.prototype.send;
    vi.spyOn(CognitoIdentityProviderClient.prototype, 'send').mockImplementation(function (
      this: CognitoIdentityProviderClient,
      command: { constructor: { name: string } },
      ...rest: unknown[]
    ) {
      if (command.constructor.name !== 'InitiateAuthCommand')
        return (send as (...args: unknown[]) => unknown).call(this, command, ...rest);
      return Promise.reject(Object.assign(new Error('Password attempts exceeded'), { name: 'NotAuthorizedException' }));
    } as never);
    const { handler } = await import('../../functions/identity/sign-in.ts');
    const event = eventOf('POST /v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    const res = (await handler(event, localLambdaContext('signIn', 'us-east-1', 60_000))) as Reply;
    expect(res.statusCode, res.body).toBe(429);
    expect(res.headers?.['retry-after']).toEqual(expect.any(String));
  });
});
