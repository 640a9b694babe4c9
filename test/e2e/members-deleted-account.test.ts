import { describe, expect, it } from 'vitest';
import { api, createTeam, signUpUser } from '../helpers/api.ts';

const membersOf = async (token: string, orgId: string) => {
  const res = await api('GET', `/v1/orgs/${orgId}/members`, { token });
  expect(res.status).toBe(200);
  return res.body.items as Array<{ userId: string; role: string; isActive?: boolean }>;
};

describe.concurrent('a deleted account’s membership', () => {
  it('cannot be made owner (422): it keeps its role, and the organization its one owner', async () => {
    const owner = await signUpUser('gone-promote-o');
    const gone = await signUpUser('gone-promote-m');
    const { orgId } = await createTeam(owner, [{ user: gone, role: 'editor' }]);
    expect((await api('DELETE', '/v1/me', { token: gone.accessToken })).status).toBe(204);

    const promote = await api('PATCH', `/v1/orgs/${orgId}/members/${gone.userId}`, {
      token: owner.accessToken,
      body: { role: 'owner' },
    });
    expect(promote.status).toBe(422);
    expect(promote.headers.get('content-type')).toContain('application/problem+json');
    expect(promote.body.detail).toMatch(/deleted their account/);
    const members = await membersOf(owner.accessToken, orgId);
    expect(members.find((m) => m.userId === gone.userId)).toMatchObject({ role: 'editor', isActive: false });
    expect(members.filter((m) => m.role === 'owner').map((m) => m.userId)).toEqual([owner.userId]);
    // The owner, still the only one, cannot leave.
    expect((await api('DELETE', `/v1/me/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(409);
  });

  it('can still be given another role: only ownership needs an open account', async () => {
    const owner = await signUpUser('gone-role-o');
    const gone = await signUpUser('gone-role-m');
    const { orgId } = await createTeam(owner, [{ user: gone, role: 'editor' }]);
    expect((await api('DELETE', '/v1/me', { token: gone.accessToken })).status).toBe(204);

    const change = await api('PATCH', `/v1/orgs/${orgId}/members/${gone.userId}`, {
      token: owner.accessToken,
      body: { role: 'viewer' },
    });
    expect(change.status).toBe(200);
    expect((await membersOf(owner.accessToken, orgId)).find((m) => m.userId === gone.userId)).toMatchObject({
      role: 'viewer',
      isActive: false,
    });
  });
});
