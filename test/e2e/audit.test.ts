import { describe, expect, it } from 'vitest';
import { api, createTeam, signUpUser, uniqueEmail } from '../helpers/api.ts';

interface AuditEvent {
  eventId: string;
  action: string;
  actorType: string;
  actorId: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
  at: string;
}

describe.concurrent('the audit log of an organization', () => {
  it('records who changed what, newest first', async () => {
    const owner = await signUpUser('auditor');
    const member = await signUpUser('audited');
    const decliner = await signUpUser('audit-decliner');
    const { orgId } = await createTeam(owner);

    // A sequence of changes, each by a known actor.
    const invitation = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: member.email, role: 'editor' },
    });
    expect(
      (await api('POST', `/v1/invitations/${invitation.body.invitationId}/accept`, { token: member.accessToken })).status,
    ).toBe(200);
    const declined = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: decliner.email, role: 'viewer' },
    });
    expect(
      (await api('POST', `/v1/invitations/${declined.body.invitationId}/decline`, { token: decliner.accessToken })).status,
    ).toBe(204);
    const revoked = await api('POST', `/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: uniqueEmail('gone'), role: 'viewer' },
    });
    expect(
      (await api('DELETE', `/v1/orgs/${orgId}/invitations/${revoked.body.invitationId}`, { token: owner.accessToken })).status,
    ).toBe(204);
    const role = await api('POST', `/v1/orgs/${orgId}/roles`, {
      token: owner.accessToken,
      body: { name: 'Reader', permissions: ['org:read'] },
    });
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, { token: owner.accessToken, body: { role: 'admin' } }))
        .status,
    ).toBe(200);
    const client = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: owner.accessToken,
      body: { name: 'Bot', scopes: ['org:read'] },
    });
    expect(
      (await api('DELETE', `/v1/orgs/${orgId}/api-clients/${client.body.clientId}`, { token: owner.accessToken })).status,
    ).toBe(204);
    expect(
      (await api('POST', `/v1/orgs/${orgId}/transfer-ownership`, { token: owner.accessToken, body: { userId: member.userId } }))
        .status,
    ).toBe(204);

    const res = await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: member.accessToken });
    expect(res.status).toBe(200);
    const events = res.body.items as AuditEvent[];
    expect(events.map((e) => e.action)).toEqual([
      'org.ownership-transferred',
      'api-client.revoked',
      'api-client.created',
      'member.role-changed',
      'role.created',
      'invitation.revoked',
      'invitation.created',
      'invitation.declined',
      'invitation.created',
      'invitation.accepted',
      'invitation.created',
      'org.created',
    ]);
    for (let i = 1; i < events.length; i++) expect(events[i - 1]!.at >= events[i]!.at).toBe(true);
    for (const event of events) expect(event.actorType).toBe('user');

    const find = (action: string, targetId?: string) =>
      events.find((e) => e.action === action && (!targetId || e.targetId === targetId))!;
    expect(find('org.ownership-transferred')).toMatchObject({
      actorId: owner.userId,
      targetId: member.userId,
      details: { from: owner.userId, to: member.userId },
    });
    expect(find('api-client.revoked')).toMatchObject({ actorId: owner.userId, targetId: client.body.clientId });
    expect(find('api-client.created')).toMatchObject({
      actorId: owner.userId,
      targetId: client.body.clientId,
      details: { name: 'Bot', scopes: ['org:read'] },
    });
    expect(JSON.stringify(find('api-client.created'))).not.toContain(client.body.key);
    expect(find('member.role-changed')).toMatchObject({
      actorId: owner.userId,
      targetId: member.userId,
      details: { from: 'editor', role: 'admin' },
    });
    expect(find('role.created')).toMatchObject({
      actorId: owner.userId,
      targetId: role.body.roleId,
      details: { name: 'Reader' },
    });
    expect(find('invitation.accepted')).toMatchObject({
      actorId: member.userId,
      targetId: invitation.body.invitationId,
      details: { role: 'editor' },
    });
    expect(find('invitation.declined')).toMatchObject({ actorId: decliner.userId, targetId: declined.body.invitationId });
    expect(find('invitation.revoked')).toMatchObject({ actorId: owner.userId, targetId: revoked.body.invitationId });
    expect(find('invitation.created', invitation.body.invitationId)).toMatchObject({
      actorId: owner.userId,
      details: { email: member.email, role: 'editor' },
    });
  });

  it('records role updates and deletions, removals and departures', async () => {
    const owner = await signUpUser('audit2');
    const removed = await signUpUser('audit2-r');
    const leaver = await signUpUser('audit2-l');
    const { orgId } = await createTeam(owner, [
      { user: removed, role: 'viewer' },
      { user: leaver, role: 'viewer' },
    ]);
    const role = await api('POST', `/v1/orgs/${orgId}/roles`, {
      token: owner.accessToken,
      body: { name: 'Temp', permissions: ['org:read'] },
    });
    expect(
      (await api('PATCH', `/v1/orgs/${orgId}/roles/${role.body.roleId}`, { token: owner.accessToken, body: { name: 'Temp 2' } }))
        .status,
    ).toBe(200);
    expect((await api('DELETE', `/v1/orgs/${orgId}/roles/${role.body.roleId}`, { token: owner.accessToken })).status).toBe(204);
    expect((await api('DELETE', `/v1/orgs/${orgId}/members/${removed.userId}`, { token: owner.accessToken })).status).toBe(204);
    expect((await api('DELETE', `/v1/me/orgs/${orgId}`, { token: leaver.accessToken })).status).toBe(204);
    expect((await api('PATCH', `/v1/orgs/${orgId}`, { token: owner.accessToken, body: { name: 'Renamed team' } })).status).toBe(
      200,
    );

    const res = await api('GET', `/v1/orgs/${orgId}/audit-events?limit=6`, { token: owner.accessToken });
    expect(res.body.items.map((e: AuditEvent) => e.action)).toEqual([
      'org.updated',
      'member.left',
      'member.removed',
      'role.deleted',
      'role.updated',
      'role.created',
    ]);
    const [updated, left, removal] = res.body.items as AuditEvent[];
    expect(updated).toMatchObject({ actorId: owner.userId, details: { changes: { name: 'Renamed team' } } });
    expect(left).toMatchObject({ actorId: leaver.userId, targetId: leaver.userId });
    expect(removal).toMatchObject({ actorId: owner.userId, targetId: removed.userId, details: { role: 'viewer' } });
  });

  it('records a member whose account is deleted as having left, with the reason, in each of their teams', async () => {
    const [owner, otherOwner, deleted] = [
      await signUpUser('audit-del-o'),
      await signUpUser('audit-del-p'),
      await signUpUser('audit-del'),
    ];
    const asOwner = await createTeam(owner, [{ user: deleted, role: 'owner' }]);
    const asViewer = await createTeam(otherOwner, [{ user: deleted, role: 'viewer' }]);
    expect((await api('DELETE', '/v1/me', { token: deleted.accessToken })).status).toBe(204);

    for (const [{ orgId }, reader, role] of [
      [asOwner, owner, 'owner'],
      [asViewer, otherOwner, 'viewer'],
    ] as const) {
      const res = await api('GET', `/v1/orgs/${orgId}/audit-events?action=member.left`, { token: reader.accessToken });
      expect(res.body.items).toMatchObject([
        {
          action: 'member.left',
          actorType: 'user',
          actorId: deleted.userId,
          targetType: 'user',
          targetId: deleted.userId,
          details: { role, reason: 'account-deleted' },
        },
      ]);
    }
  });

  it('filters by action and pages with a cursor', async () => {
    const owner = await signUpUser('auditpage');
    const { orgId } = await createTeam(owner);
    for (const email of [uniqueEmail('p1'), uniqueEmail('p2'), uniqueEmail('p3')])
      expect(
        (await api('POST', `/v1/orgs/${orgId}/invitations`, { token: owner.accessToken, body: { email, role: 'viewer' } }))
          .status,
      ).toBe(201);
    const filtered = await api('GET', `/v1/orgs/${orgId}/audit-events?action=invitation.created`, { token: owner.accessToken });
    expect(filtered.body.items).toHaveLength(3);
    expect(filtered.body.items.every((e: AuditEvent) => e.action === 'invitation.created')).toBe(true);

    const first = await api('GET', `/v1/orgs/${orgId}/audit-events?limit=2`, { token: owner.accessToken });
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api(
      'GET',
      `/v1/orgs/${orgId}/audit-events?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { token: owner.accessToken },
    );
    expect(second.body.items).toHaveLength(2);
    const ids = [...first.body.items, ...second.body.items].map((e: AuditEvent) => e.eventId);
    expect(new Set(ids).size).toBe(4);
    expect(second.body.items.at(-1).action).toBe('org.created');
  });

  it('records the API client as the actor of what it does', async () => {
    const owner = await signUpUser('auditbot');
    const { orgId } = await createTeam(owner);
    const { body: client } = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: owner.accessToken,
      body: {
        name: 'Inviter bot',
        scopes: ['invitations:create', 'audit:read', 'org:read', 'members:read', 'roles:read', 'models:read'],
      },
    });
    expect(
      (
        await api('POST', `/v1/orgs/${orgId}/invitations`, {
          apiKey: client.key,
          body: { email: uniqueEmail('bot'), role: 'viewer' },
        })
      ).status,
    ).toBe(201);
    const res = await api('GET', `/v1/orgs/${orgId}/audit-events`, { apiKey: client.key });
    expect(res.status).toBe(200);
    expect(res.body.items[0]).toMatchObject({ action: 'invitation.created', actorType: 'apiClient', actorId: client.clientId });
  });

  it('is closed to viewers and editors (403) and to strangers (404)', async () => {
    const owner = await signUpUser('auditclosed');
    const viewer = await signUpUser('auditclosed-v');
    const editor = await signUpUser('auditclosed-e');
    const stranger = await signUpUser('auditclosed-x');
    const { orgId } = await createTeam(owner, [
      { user: viewer, role: 'viewer' },
      { user: editor, role: 'editor' },
    ]);
    expect((await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: viewer.accessToken })).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: editor.accessToken })).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: stranger.accessToken })).status).toBe(404);
    expect((await api('GET', `/v1/orgs/${orgId}/audit-events`, { token: owner.accessToken })).status).toBe(200);
  });
});
