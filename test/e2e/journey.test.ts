import { describe, expect, it } from 'vitest';
import { api, signUpUser } from '../helpers/api.ts';

describe('sign-up to an authenticated call', () => {
  it('answers health', async () => {
    const res = await api('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('creates the profile and a personal organization on confirmation', async () => {
    const user = await signUpUser('journey', 'Ada Lovelace');
    const me = await api('GET', '/v1/me', { token: user.accessToken });
    expect(me.body).toMatchObject({
      email: user.email,
      fullName: 'Ada Lovelace',
      isEmailVerified: true,
      languagePreference: 'en-US',
      timezone: 'UTC',
    });
    const orgs = await api('GET', '/v1/me/orgs', { token: user.accessToken });
    expect(orgs.body.items).toHaveLength(1);
    expect(orgs.body.items[0]).toMatchObject({ orgType: 'SOLO', role: 'owner', ownerId: user.userId, orgId: user.personalOrgId });
  });
});
