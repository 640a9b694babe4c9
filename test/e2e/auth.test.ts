import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { setMfa } from '@platform/domain/identity/auth';
import { identityProvider } from '@platform/domain/identity/cognito';
import { db } from '@platform/domain/identity/entities';
import { PASSWORD, api, errorPaths, latestMail, signIn, signUpUser, totp, uniqueEmail } from '../helpers/api.ts';

const NEW_PASSWORD = 'An0ther-Str0ng-Passw0rd!';

/** Signs up without confirming: the account exists, its code is in the outbox. */
async function signUpUnconfirmed(prefix = 'auth') {
  const email = uniqueEmail(prefix);
  const res = await api('POST', '/v1/auth/sign-up', { body: { email, password: PASSWORD } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { email, response: res };
}

describe.concurrent('signing up', () => {
  it('answers 201 with the new user id and an unconfirmed account, and emails a 6-digit code', async () => {
    const { email, response } = await signUpUnconfirmed();
    expect(response.body).toMatchObject({ confirmed: false, delivery: 'email' });
    expect(response.body.userId).toMatch(/^[0-9a-f-]{36}$/);
    const mail = await latestMail(email, 'verification');
    expect(mail?.code).toMatch(/^\d{6}$/);
  });

  it('refuses a malformed email with a field error on body.email', async () => {
    const res = await api('POST', '/v1/auth/sign-up', { body: { email: 'not-an-email', password: PASSWORD } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.status).toBe(400);
    expect(errorPaths(res.body)).toContain('body.email');
  });

  it('refuses a too-short password with a field error on body.password', async () => {
    const res = await api('POST', '/v1/auth/sign-up', { body: { email: uniqueEmail('weak'), password: 'short' } });
    expect(res.status).toBe(400);
    expect(errorPaths(res.body)).toContain('body.password');
  });

  it('refuses a long password that misses the policy (no digit, no symbol) with a field error on password', async () => {
    const res = await api('POST', '/v1/auth/sign-up', { body: { email: uniqueEmail('weak'), password: 'alllowercaseletters' } });
    expect(res.status).toBe(400);
    expect(errorPaths(res.body)).toContain('body.password');
  });

  it('wants the deployed pool’s 12 characters: 11 with every character class are a field error, and /openapi.json says 12', async () => {
    const res = await api('POST', '/v1/auth/sign-up', { body: { email: uniqueEmail('weak'), password: 'Passw0rd-Xy' } });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(errorPaths(res.body)).toContain('body.password');
    const { body: doc } = await api('GET', '/openapi.json');
    for (const path of ['/v1/auth/sign-up', '/v1/auth/confirm-forgot-password'])
      expect(doc.paths[path].post.requestBody.content['application/json'].schema.properties.password, path).toMatchObject({
        minLength: 12,
      });
  });

  it('refuses a second sign-up with the same email with 409', async () => {
    const { email } = await signUpUnconfirmed('dup');
    const again = await api('POST', '/v1/auth/sign-up', { body: { email, password: PASSWORD } });
    expect(again.status).toBe(409);
  });

  it('ignores an Idempotency-Key: a retry with the same key is the same 409, not a replay; the emailed code still confirms', async () => {
    const email = uniqueEmail('signup-retry');
    const headers = { 'idempotency-key': `sign-up-${randomUUID()}` };
    expect((await api('POST', '/v1/auth/sign-up', { headers, body: { email, password: PASSWORD } })).status).toBe(201);
    const retry = await api('POST', '/v1/auth/sign-up', { headers, body: { email, password: PASSWORD } });
    expect(retry.status).toBe(409);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const mail = await latestMail(email, 'verification');
    expect((await api('POST', '/v1/auth/confirm-sign-up', { body: { email, code: mail!.code } })).status).toBe(200);
  });

  it('refuses a wrong confirmation code with 400 and leaves the account unconfirmed', async () => {
    const { email } = await signUpUnconfirmed('badcode');
    const mail = await latestMail(email, 'verification');
    const wrong = mail!.code === '000000' ? '111111' : '000000';
    const res = await api('POST', '/v1/auth/confirm-sign-up', { body: { email, code: wrong } });
    expect(res.status).toBe(400);
    expect(errorPaths(res.body)).toContain('body.code');
    const signInAttempt = await api('POST', '/v1/auth/sign-in', { body: { email, password: PASSWORD } });
    expect(signInAttempt.status).toBe(403);
  });

  it('refuses sign-in before the email is confirmed with 403', async () => {
    const { email } = await signUpUnconfirmed('early');
    const res = await api('POST', '/v1/auth/sign-in', { body: { email, password: PASSWORD } });
    expect(res.status).toBe(403);
  });

  it('sends a new code on resend, and that code confirms the account', async () => {
    const { email } = await signUpUnconfirmed('resend');
    const before = await api('GET', `/local/outbox?to=${encodeURIComponent(email)}`);
    const count = before.body.items.filter((m: { kind: string }) => m.kind === 'verification').length;
    const res = await api('POST', '/v1/auth/resend-code', { body: { email } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    const after = await api('GET', `/local/outbox?to=${encodeURIComponent(email)}`);
    const verification = after.body.items.filter((m: { kind: string }) => m.kind === 'verification');
    expect(verification.length).toBe(count + 1);
    const code = verification.at(-1).code;
    expect(code).toMatch(/^\d{6}$/);
    expect(await api('POST', '/v1/auth/confirm-sign-up', { body: { email, code } })).toMatchObject({
      status: 200,
      body: { confirmed: true },
    });
    const signedIn = await api('POST', '/v1/auth/sign-in', { body: { email, password: PASSWORD } });
    expect(signedIn.status).toBe(200);
  });

  it('answers resend-code for an already confirmed account the same way (202): nothing says it exists', async () => {
    const user = await signUpUser('resend-confirmed');
    const res = await api('POST', '/v1/auth/resend-code', { body: { email: user.email } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
  });

  it('answers resend-code for an unknown email the same way (202)', async () => {
    const res = await api('POST', '/v1/auth/resend-code', { body: { email: uniqueEmail('nobody') } });
    expect(res.status).toBe(202);
  });

  it('answers a made-up code the same (400 on body.code) for a pending, a confirmed and an unknown address', async () => {
    const { email: pending } = await signUpUnconfirmed('confirm-enum');
    const { email: confirmed } = await signUpUser('confirm-enum-done');
    const answers = await Promise.all(
      [pending, confirmed, uniqueEmail('nobody')].map(async (email) => {
        const res = await api('POST', '/v1/auth/confirm-sign-up', { body: { email, code: '000001' } });
        return { status: res.status, detail: res.body.detail, paths: errorPaths(res.body) };
      }),
    );
    expect(answers).toEqual(Array(3).fill({ status: 400, detail: 'The code is not valid', paths: ['body.code'] }));
  });
});

describe.concurrent('signing in', () => {
  it('returns access, id and refresh tokens and a session id; the access token opens /v1/me', async () => {
    const user = await signUpUser('signin');
    const res = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer' });
    expect(res.body.accessToken).toEqual(expect.any(String));
    expect(res.body.idToken).toEqual(expect.any(String));
    expect(res.body.refreshToken).toEqual(expect.any(String));
    expect(res.body.expiresIn).toBeGreaterThan(0);
    expect(res.body.sessionId).toMatch(/^ses_[0-9a-z]{26}$/);
    const me = await api('GET', '/v1/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);
    expect(me.body.lastLoginAt).toEqual(expect.any(String));
  });

  it('refuses a wrong password with 401', async () => {
    const user = await signUpUser('wrongpw');
    const res = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: 'Wrong-Passw0rd!' } });
    expect(res.status).toBe(401);
  });

  it('refuses an unknown email with the same 401', async () => {
    const res = await api('POST', '/v1/auth/sign-in', { body: { email: uniqueEmail('ghost'), password: PASSWORD } });
    expect(res.status).toBe(401);
  });

  it('refuses /v1/me without a token (401) and with a garbage token (401)', async () => {
    expect((await api('GET', '/v1/me')).status).toBe(401);
    expect((await api('GET', '/v1/me', { token: 'not.a.jwt' })).status).toBe(401);
  });
});

describe.concurrent('refreshing and signing out', () => {
  it('gives a new working access token for the refresh token, in the same session', async () => {
    const user = await signUpUser('refresh');
    const res = await api('POST', '/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(res.status).toBe(200);
    expect(res.body.accessToken).toEqual(expect.any(String));
    expect(res.body.accessToken).not.toBe(user.accessToken);
    expect(res.body.sessionId).toBe(user.sessionId);
    const me = await api('GET', '/v1/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.userId).toBe(user.userId);
  });

  it('refuses an unknown refresh token with 401', async () => {
    const res = await api('POST', '/v1/auth/refresh', { body: { refreshToken: 'x'.repeat(64) } });
    expect(res.status).toBe(401);
  });

  it('after sign-out the refresh token stops working (401) and the session leaves the device list', async () => {
    const user = await signUpUser('signout');
    const other = await signIn(user.email);
    const out = await api('POST', '/v1/auth/sign-out', { body: { refreshToken: user.refreshToken } });
    expect(out.status).toBe(204);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    // Signing out twice is refused as well: the session is gone.
    expect((await api('POST', '/v1/auth/sign-out', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    const sessions = await api('GET', '/v1/me/sessions', { token: other.accessToken });
    const ids = sessions.body.items.map((s: { sessionId: string }) => s.sessionId);
    expect(ids).not.toContain(user.sessionId);
    expect(ids).toContain(other.sessionId);
    // The other device is unaffected.
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(200);
  });
});

describe.concurrent('forgetting the password', () => {
  it('answers 202 for an unknown email and sends nothing', async () => {
    const email = uniqueEmail('unknown');
    const res = await api('POST', '/v1/auth/forgot-password', { body: { email } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    expect(await latestMail(email)).toBeUndefined();
  });

  it('answers a made-up code the same (400 on body.code) for a registered and an unknown address', async () => {
    const user = await signUpUser('forgot-enum');
    const answers = await Promise.all(
      [user.email, uniqueEmail('nobody')].map(async (email) => {
        const res = await api('POST', '/v1/auth/confirm-forgot-password', {
          body: { email, code: '000001', password: NEW_PASSWORD },
        });
        return { status: res.status, detail: res.body.detail, paths: errorPaths(res.body) };
      }),
    );
    expect(answers).toEqual(Array(2).fill({ status: 400, detail: 'The code is not valid', paths: ['body.code'] }));
  });

  it('a made-up code with the current password (no reset asked) is a 400, as with a wrong one, and signs no device out', async () => {
    const user = await signUpUser('forgot-current');
    // The current password and a wrong one are answered alike: the route tells no one which is right.
    const answers = [];
    for (const password of [PASSWORD, NEW_PASSWORD]) {
      const forged = await api('POST', '/v1/auth/confirm-forgot-password', {
        body: { email: user.email, code: '123456', password },
      });
      answers.push({ status: forged.status, detail: forged.body.detail, paths: errorPaths(forged.body) });
    }
    expect(answers).toEqual(Array(2).fill({ status: 400, detail: 'The code is not valid', paths: ['body.code'] }));
    expect((await api('GET', '/v1/me', { token: user.accessToken })).status).toBe(200);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(200);
  });

  it('a made-up code with the current password but not the second factor signs no device of an MFA account out', async () => {
    const user = await signUpUser('forgot-current-mfa');
    const setup = await api('POST', '/v1/auth/mfa/setup', { token: user.accessToken });
    const verify = await api('POST', '/v1/auth/mfa/verify', {
      token: user.accessToken,
      body: { code: totp(setup.body.secretCode) },
    });
    expect(verify.status, JSON.stringify(verify.body)).toBe(200);

    const forged = await api('POST', '/v1/auth/confirm-forgot-password', {
      body: { email: user.email, code: '123456', password: PASSWORD },
    });
    expect({ status: forged.status, paths: errorPaths(forged.body) }).toEqual({ status: 400, paths: ['body.code'] });
    expect((await api('GET', '/v1/me', { token: user.accessToken })).status).toBe(200);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(200);
  });

  it('emails a reset code; the new password works and the old one is refused', async () => {
    const user = await signUpUser('forgot');
    const res = await api('POST', '/v1/auth/forgot-password', { body: { email: user.email } });
    expect(res.status).toBe(202);
    const mail = await latestMail(user.email, 'password-reset');
    expect(mail?.code).toMatch(/^\d{6}$/);

    const wrong = mail!.code === '000000' ? '111111' : '000000';
    const bad = await api('POST', '/v1/auth/confirm-forgot-password', {
      body: { email: user.email, code: wrong, password: NEW_PASSWORD },
    });
    expect(bad.status).toBe(400);
    expect(errorPaths(bad.body)).toContain('body.code');

    const weak = await api('POST', '/v1/auth/confirm-forgot-password', {
      body: { email: user.email, code: mail!.code, password: 'short' },
    });
    expect(weak.status).toBe(400);
    expect(errorPaths(weak.body)).toContain('body.password');

    const ok = await api('POST', '/v1/auth/confirm-forgot-password', {
      body: { email: user.email, code: mail!.code, password: NEW_PASSWORD },
    });
    expect(ok.status).toBe(204);
    expect((await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } })).status).toBe(401);
    const fresh = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: NEW_PASSWORD } });
    expect(fresh.status).toBe(200);
    expect(fresh.body.accessToken).toEqual(expect.any(String));
  });

  it('refuses a reset to a recent password (the pool keeps the last 5, the current one too) with 400 on body.password', async () => {
    const user = await signUpUser('forgot-reuse');
    const resetTo = async (password: string) => {
      expect((await api('POST', '/v1/auth/forgot-password', { body: { email: user.email } })).status).toBe(202);
      const mail = await latestMail(user.email, 'password-reset');
      return api('POST', '/v1/auth/confirm-forgot-password', { body: { email: user.email, code: mail!.code, password } });
    };
    const same = await resetTo(PASSWORD);
    expect(same.status, JSON.stringify(same.body)).toBe(400);
    expect(errorPaths(same.body)).toContain('body.password');
    expect((await resetTo(NEW_PASSWORD)).status).toBe(204);
    const back = await resetTo(PASSWORD);
    expect(back.status, JSON.stringify(back.body)).toBe(400);
    expect(errorPaths(back.body)).toContain('body.password');
    expect((await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: NEW_PASSWORD } })).status).toBe(200);
  });

  it('signs every device out: the refresh tokens of sessions opened before the reset stop working', async () => {
    const user = await signUpUser('forgot-devices');
    const other = await signIn(user.email);
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email: user.email.toUpperCase() } })).status).toBe(202);
    const mail = await latestMail(user.email, 'password-reset');
    const reset = await api('POST', '/v1/auth/confirm-forgot-password', {
      body: { email: user.email.toUpperCase(), code: mail!.code, password: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);
    for (const refreshToken of [user.refreshToken, other.refreshToken])
      expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken } })).status).toBe(401);
    const fresh = await signIn(user.email, NEW_PASSWORD);
    const sessions = await api('GET', '/v1/me/sessions', { token: fresh.accessToken });
    expect(sessions.body.items.map((s: { sessionId: string }) => s.sessionId)).toEqual([fresh.sessionId]);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: fresh.refreshToken } })).status).toBe(200);
  });

  it('signs any number of devices out in one write: their tokens fail here and at Cognito itself, a new sign-in works', async () => {
    const user = await signUpUser('forgot-many');
    const devices = [user, ...(await Promise.all(Array.from({ length: 5 }, () => signIn(user.email))))];
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email: user.email } })).status).toBe(202);
    const mail = await latestMail(user.email, 'password-reset');
    const reset = await api('POST', '/v1/auth/confirm-forgot-password', {
      body: { email: user.email, code: mail!.code, password: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);
    // The account found by its address, then one write that ends its sessions (none per device), and any earlier
    // reset's pending sign-out ended.
    expect(reset.dynamoRequests).toEqual(['Query', 'UpdateItem', 'DeleteItem']);
    for (const device of devices) {
      expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: device.refreshToken } })).status).toBe(401);
      expect((await api('POST', '/v1/auth/sign-out', { body: { refreshToken: device.refreshToken } })).status).toBe(401);
      // A thief holding the token cannot take it to Cognito with the public app client either.
      await expect(identityProvider.refresh(device.refreshToken)).rejects.toMatchObject({ status: 401 });
    }
    const fresh = await signIn(user.email, NEW_PASSWORD);
    expect((await api('DELETE', `/v1/me/sessions/${user.sessionId}`, { token: fresh.accessToken })).status).toBe(404);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: fresh.refreshToken } })).status).toBe(200);
    expect((await api('POST', '/v1/auth/sign-out', { body: { refreshToken: fresh.refreshToken } })).status).toBe(204);
  });

  it('a reset of a never-confirmed account confirms it and sets it up: profile, personal organization, working refresh', async () => {
    const { email } = await signUpUnconfirmed('forgot-unconfirmed');
    expect((await api('POST', '/v1/auth/forgot-password', { body: { email } })).status).toBe(202);
    const mail = await latestMail(email, 'password-reset');
    const reset = await api('POST', '/v1/auth/confirm-forgot-password', {
      body: { email, code: mail!.code, password: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);

    const signedIn = await api('POST', '/v1/auth/sign-in', { body: { email, password: NEW_PASSWORD } });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect((await api('GET', '/v1/me', { token: signedIn.body.accessToken })).status).toBe(200);
    const orgs = await api('GET', '/v1/me/orgs', { token: signedIn.body.accessToken });
    expect(orgs.body.items).toMatchObject([{ orgType: 'SOLO', role: 'owner' }]);
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: signedIn.body.refreshToken } })).status).toBe(200);
  });
});

describe.concurrent('authenticator-app (TOTP) MFA', () => {
  it('sets up TOTP, then sign-in asks for a code and the right code gives tokens', async () => {
    const user = await signUpUser('mfa');
    const setup = await api('POST', '/v1/auth/mfa/setup', { token: user.accessToken });
    expect(setup.status).toBe(200);
    expect(setup.body.secretCode).toMatch(/^[A-Z2-7]+=*$/);
    expect(setup.body.otpauthUri).toContain(`secret=${setup.body.secretCode}`);
    expect(setup.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);

    const wrongSetup = await api('POST', '/v1/auth/mfa/verify', {
      token: user.accessToken,
      body: { code: wrongCode(totp(setup.body.secretCode)) },
    });
    expect(wrongSetup.status).toBe(400);
    expect((await api('GET', '/v1/me', { token: user.accessToken })).body.mfaEnabled).toBe(false);

    const verify = await api('POST', '/v1/auth/mfa/verify', {
      token: user.accessToken,
      body: { code: totp(setup.body.secretCode) },
    });
    expect(verify.status, JSON.stringify(verify.body)).toBe(200);
    expect(verify.body).toEqual({ mfaEnabled: true });
    const me = await api('GET', '/v1/me', { token: user.accessToken });
    expect(me.body.mfaEnabled).toBe(true);

    const challenge = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect(challenge.status).toBe(200);
    expect(challenge.body).toEqual({ challenge: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });
    expect(challenge.body.accessToken).toBeUndefined();

    const refused = await api('POST', '/v1/auth/sign-in/mfa', {
      body: { email: user.email, session: challenge.body.session, code: wrongCode(totp(setup.body.secretCode)) },
    });
    expect(refused.status).toBe(400);

    // A refused code may have consumed the challenge session: start a fresh one.
    const again = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect(again.body.challenge).toBe('SOFTWARE_TOKEN_MFA');
    const answered = await api('POST', '/v1/auth/sign-in/mfa', {
      body: { email: user.email, session: again.body.session, code: totp(setup.body.secretCode) },
    });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    expect(answered.body).toMatchObject({
      tokenType: 'Bearer',
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
    });
    expect(answered.body.sessionId).toMatch(/^ses_/);
    expect((await api('GET', '/v1/me', { token: answered.body.accessToken })).status).toBe(200);
    // The MFA sign-in's refresh token is a real session.
    expect((await api('POST', '/v1/auth/refresh', { body: { refreshToken: answered.body.refreshToken } })).status).toBe(200);

    const disabled = await api('POST', '/v1/auth/mfa/disable', { token: answered.body.accessToken });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({ mfaEnabled: false });
    const plain = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect(plain.body.accessToken).toEqual(expect.any(String));
  });

  it('refuses the MFA step without the password step, a second answer, and another user’s challenge (401)', async () => {
    const enrol = async (prefix: string) => {
      const user = await signUpUser(prefix);
      const setup = await api('POST', '/v1/auth/mfa/setup', { token: user.accessToken });
      const code = totp(setup.body.secretCode);
      expect((await api('POST', '/v1/auth/mfa/verify', { token: user.accessToken, body: { code } })).status).toBe(200);
      return { ...user, secret: setup.body.secretCode as string };
    };
    const [a, b] = await Promise.all([enrol('mfa-a'), enrol('mfa-b')]);
    const answer = (email: string, session: string, secret: string) =>
      api('POST', '/v1/auth/sign-in/mfa', { body: { email, session, code: totp(secret) } });

    expect((await answer(a.email, 'f'.repeat(36), a.secret)).status).toBe(401);

    const forA = await api('POST', '/v1/auth/sign-in', { body: { email: a.email, password: PASSWORD } });
    expect((await answer(b.email, forA.body.session, b.secret)).status).toBe(401);

    const challenge = await api('POST', '/v1/auth/sign-in', { body: { email: a.email, password: PASSWORD } });
    expect((await answer(a.email, challenge.body.session, a.secret)).status).toBe(200);
    expect((await answer(a.email, challenge.body.session, a.secret)).status).toBe(401);
  });

  it('refuses MFA set-up without a token (401)', async () => {
    expect((await api('POST', '/v1/auth/mfa/setup')).status).toBe(401);
  });

  it('refuses a second set-up while MFA is on (409): the enrolled authenticator keeps signing in; after disable it works', async () => {
    const user = await signUpUser('mfa-again');
    const setup = await api('POST', '/v1/auth/mfa/setup', { token: user.accessToken });
    const code = totp(setup.body.secretCode);
    expect((await api('POST', '/v1/auth/mfa/verify', { token: user.accessToken, body: { code } })).status).toBe(200);

    // The user starts moving to a new phone and gives up (never verifies).
    const again = await api('POST', '/v1/auth/mfa/setup', { token: user.accessToken });
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe('MFA is already on: disable it first');
    expect((await api('GET', '/v1/me', { token: user.accessToken })).body.mfaEnabled).toBe(true);
    const challenge = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect(challenge.body.challenge).toBe('SOFTWARE_TOKEN_MFA');
    const answered = await api('POST', '/v1/auth/sign-in/mfa', {
      body: { email: user.email, session: challenge.body.session, code: totp(setup.body.secretCode) },
    });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);

    expect((await api('POST', '/v1/auth/mfa/disable', { token: user.accessToken })).status).toBe(200);
    const moved = await api('POST', '/v1/auth/mfa/setup', { token: user.accessToken });
    expect(moved.status).toBe(200);
    expect(moved.body.secretCode).not.toBe(setup.body.secretCode);
  });
});

describe('MFA verify and disable at the same time', () => {
  it('leave /v1/me saying what sign-in asks for, whichever writes the profile last', async () => {
    const user = await signUpUser('mfa-race');
    const setup = await api('POST', '/v1/auth/mfa/setup', { token: user.accessToken });
    // The interleaving a plain write gets wrong: verify's Cognito calls, then the whole disable, then verify's write
    // of the profile. Only verify's write (mfaEnabled: true) is held back until the disable has ended.
    let reached!: () => void;
    const verifyReachedItsWrite = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const patch = db.user.patch.bind(db.user);
    vi.spyOn(db.user, 'patch').mockImplementation(((key: never) => {
      const chain = patch(key) as any;
      const set = chain.set.bind(chain);
      chain.set = (values: { mfaEnabled?: boolean }) => {
        const next = set(values);
        if (values.mfaEnabled === true) {
          const go = next.go.bind(next);
          next.go = async (...args: unknown[]) => {
            reached();
            await gate;
            return go(...args);
          };
        }
        return next;
      };
      return chain;
    }) as never);
    try {
      const verifying = setMfa(user.accessToken, totp(setup.body.secretCode));
      await verifyReachedItsWrite;
      const disabled = await setMfa(user.accessToken, undefined);
      release();
      expect({ verified: await verifying, disabled }).toEqual({
        verified: { mfaEnabled: true },
        disabled: { mfaEnabled: false },
      });
    } finally {
      release();
      vi.restoreAllMocks();
    }
    const me = await api('GET', '/v1/me', { token: user.accessToken });
    const signIn = await api('POST', '/v1/auth/sign-in', { body: { email: user.email, password: PASSWORD } });
    expect({ profileSaysMfaOn: me.body.mfaEnabled, signInAsksForCode: signIn.body.challenge === 'SOFTWARE_TOKEN_MFA' }).toEqual({
      profileSaysMfaOn: false,
      signInAsksForCode: false,
    });
  });
});

/** Another 6-digit code (a clash with a neighbouring time step is one in a million). */
function wrongCode(code: string) {
  return String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
}
