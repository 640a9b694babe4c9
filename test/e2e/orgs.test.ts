import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { billingDb } from '@platform/domain/billing/entities';
import { signStripePayload } from '@platform/domain/billing/stripe/signature';
import {
  api,
  createTeam,
  errorPaths,
  eventually,
  payCheckout,
  signUpUser,
  stripeCalls,
  stripeSubscriptions,
  uniqueEmail,
  type SignedInUser,
} from '../helpers/api.ts';
import { expectAnsweredAsStored } from '../helpers/as-stored.ts';

const newSlug = (prefix = 'org') => `${prefix}-${randomUUID().slice(0, 8)}`;

describe.concurrent('creating a team', () => {
  it('answers 201 with the team, and the creator is its owner', async () => {
    const owner = await signUpUser('creator');
    const slug = newSlug('acme');
    const res = await api('POST', '/v1/orgs', { token: owner.accessToken, body: { name: 'Acme Studio', slug } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Acme Studio',
      slug,
      orgType: 'TEAM',
      apiKeyStrategy: 'PLATFORM',
      ownerId: owner.userId,
      createdBy: owner.userId,
      role: 'owner',
    });
    expect(res.body.orgId).toMatch(/^org_[0-9a-z]{26}$/);
    const members = await api('GET', `/v1/orgs/${res.body.orgId}/members`, { token: owner.accessToken });
    expect(members.body.items).toEqual([expect.objectContaining({ userId: owner.userId, role: 'owner', email: owner.email })]);
  });

  it('creates an enterprise with a BYOK key strategy when asked', async () => {
    const owner = await signUpUser('enterprise');
    const res = await api('POST', '/v1/orgs', {
      token: owner.accessToken,
      body: { name: 'Big Co', slug: newSlug('bigco'), orgType: 'ENTERPRISE', apiKeyStrategy: 'BYOK' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ orgType: 'ENTERPRISE', apiKeyStrategy: 'BYOK' });
  });

  it('refuses a slug that is taken with 409 on slug, even for another user and in another case', async () => {
    const first = await signUpUser('slug1');
    const second = await signUpUser('slug2');
    const slug = newSlug('taken');
    expect((await api('POST', '/v1/orgs', { token: first.accessToken, body: { name: 'One', slug } })).status).toBe(201);
    const clash = await api('POST', '/v1/orgs', { token: second.accessToken, body: { name: 'Two', slug: slug.toUpperCase() } });
    expect(clash.status).toBe(409);
    expect(errorPaths(clash.body)).toContain('body.slug');
    const mine = await api('GET', '/v1/orgs', { token: second.accessToken });
    expect(mine.body.items.map((o: { name: string }) => o.name)).not.toContain('Two');
  });

  it('refuses a malformed slug, a SOLO type and unknown fields with 400', async () => {
    const owner = await signUpUser('badorg');
    const badSlug = await api('POST', '/v1/orgs', { token: owner.accessToken, body: { name: 'X', slug: '-bad slug!' } });
    expect(badSlug.status).toBe(400);
    expect(errorPaths(badSlug.body)).toContain('body.slug');
    expect(
      (await api('POST', '/v1/orgs', { token: owner.accessToken, body: { name: 'X', slug: newSlug(), orgType: 'SOLO' } })).status,
    ).toBe(400);
    expect(
      (await api('POST', '/v1/orgs', { token: owner.accessToken, body: { name: 'X', slug: newSlug(), ownerId: 'someone' } }))
        .status,
    ).toBe(400);
  });
});

describe.concurrent('listing my organizations', () => {
  it('lists the personal organization and teams with my role in each', async () => {
    const owner = await signUpUser('lister');
    const viewer = await signUpUser('lister-v');
    const { orgId } = await createTeam(owner, [{ user: viewer, role: 'viewer' }]);
    const res = await api('GET', '/v1/orgs', { token: viewer.accessToken });
    expect(res.status).toBe(200);
    const byId = new Map(res.body.items.map((o: { orgId: string }) => [o.orgId, o]));
    expect(byId.size).toBe(2);
    expect(byId.get(viewer.personalOrgId)).toMatchObject({ orgType: 'SOLO', role: 'owner' });
    expect(byId.get(orgId)).toMatchObject({ orgType: 'TEAM', role: 'viewer', ownerId: owner.userId });
    // The same answer at /v1/me/orgs.
    const me = await api('GET', '/v1/me/orgs', { token: viewer.accessToken });
    expect(me.body.items.map((o: { orgId: string }) => o.orgId).sort()).toEqual([...byId.keys()].sort());
  });

  it('leaves out an organization whose membership has expired, as authorization does', async () => {
    const owner = await signUpUser('lister-exp');
    const member = await signUpUser('lister-exp-m');
    const { orgId } = await createTeam(owner, [{ user: member, role: 'editor' }]);
    const past = new Date(Date.now() - 60_000).toISOString();
    const expire = await api('PATCH', `/v1/orgs/${orgId}/members/${member.userId}`, {
      token: owner.accessToken,
      body: { expiresAt: past },
    });
    expect(expire.status).toBe(200);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: member.accessToken })).status).toBe(404);
    for (const path of ['/v1/me/orgs', '/v1/orgs']) {
      const mine = await api('GET', path, { token: member.accessToken });
      expect(mine.body.items.map((o: { orgId: string }) => o.orgId)).toEqual([member.personalOrgId]);
    }
  });
});

describe.concurrent('reading and changing an organization', () => {
  it('shows the organization to a member, with their role, and 404 to a stranger', async () => {
    const owner = await signUpUser('reader');
    const viewer = await signUpUser('reader-v');
    const stranger = await signUpUser('reader-x');
    const { orgId, slug } = await createTeam(owner, [{ user: viewer, role: 'viewer' }]);
    const res = await api('GET', `/v1/orgs/${orgId}`, { token: viewer.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orgId, slug, role: 'viewer' });
    expect(res.body).not.toHaveProperty('ownerCount');
    expect(res.body).not.toHaveProperty('roles');
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: stranger.accessToken })).status).toBe(404);
  });

  it('renames and changes the slug; the old slug is then free for someone else', async () => {
    const owner = await signUpUser('renamer');
    const other = await signUpUser('renamer-x');
    const { orgId, slug } = await createTeam(owner);
    const next = newSlug('renamed');
    const res = await api('PATCH', `/v1/orgs/${orgId}`, {
      token: owner.accessToken,
      body: { name: 'Renamed', slug: next, apiKeyStrategy: 'HYBRID' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ orgId, name: 'Renamed', slug: next, apiKeyStrategy: 'HYBRID', role: 'owner' });
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).body).toMatchObject({
      name: 'Renamed',
      slug: next,
    });

    const reuse = await api('POST', '/v1/orgs', { token: other.accessToken, body: { name: 'Old slug', slug } });
    expect(reuse.status).toBe(201);
    // The new slug is held.
    expect((await api('POST', '/v1/orgs', { token: other.accessToken, body: { name: 'New slug', slug: next } })).status).toBe(
      409,
    );
  });

  it('refuses a slug change to a slug another organization holds (409) and keeps the old one', async () => {
    const owner = await signUpUser('slugclash');
    const a = await createTeam(owner);
    const b = await createTeam(owner);
    const res = await api('PATCH', `/v1/orgs/${a.orgId}`, { token: owner.accessToken, body: { slug: b.slug } });
    expect(res.status).toBe(409);
    expect(errorPaths(res.body)).toContain('body.slug');
    expect((await api('GET', `/v1/orgs/${a.orgId}`, { token: owner.accessToken })).body.slug).toBe(a.slug);
  });

  it('does not let a viewer change the organization (403)', async () => {
    const owner = await signUpUser('guarded');
    const viewer = await signUpUser('guarded-v');
    const { orgId } = await createTeam(owner, [{ user: viewer, role: 'viewer' }]);
    const res = await api('PATCH', `/v1/orgs/${orgId}`, { token: viewer.accessToken, body: { name: 'Hijacked' } });
    expect(res.status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).body.name).not.toBe('Hijacked');
  });

  it('lets an admin rename it but not delete it (403)', async () => {
    const owner = await signUpUser('adminrename');
    const admin = await signUpUser('adminrename-a');
    const { orgId } = await createTeam(owner, [{ user: admin, role: 'admin' }]);
    expect((await api('PATCH', `/v1/orgs/${orgId}`, { token: admin.accessToken, body: { name: 'By admin' } })).status).toBe(200);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: admin.accessToken })).status).toBe(403);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(200);
  });
});

describe('an organization write’s answer', () => {
  it('is the organization as stored: its creation and each change answer what a GET right after shows', async () => {
    const owner = await signUpUser('org-as-stored');
    let orgId = '';
    const read = () => api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken });
    const patch = (body: Record<string, unknown>) => () => api('PATCH', `/v1/orgs/${orgId}`, { token: owner.accessToken, body });
    const create = async () => {
      const res = await api('POST', '/v1/orgs', {
        token: owner.accessToken,
        body: { name: 'As stored', slug: newSlug('stored') },
      });
      orgId = res.body.orgId;
      return res;
    };
    await expectAnsweredAsStored([
      ['create', create, read],
      ['renamed', patch({ name: 'Renamed' }), read],
      ['new slug', patch({ slug: newSlug('restored') }), read],
      ['key strategy', patch({ apiKeyStrategy: 'BYOK' }), read],
    ]);
  });
});

describe.concurrent('deleting an organization', () => {
  it('the owner deletes a team: 204, then it is 404 for members, gone from their lists, and its slug is reusable', async () => {
    const owner = await signUpUser('deleter');
    const editor = await signUpUser('deleter-e');
    const other = await signUpUser('deleter-x');
    const { orgId, slug } = await createTeam(owner, [{ user: editor, role: 'editor' }]);
    const res = await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken });
    expect(res.status).toBe(204);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(404);
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: editor.accessToken })).status).toBe(404);
    expect((await api('GET', `/v1/orgs/${orgId}/members`, { token: editor.accessToken })).status).toBe(404);
    expect((await api('PATCH', `/v1/orgs/${orgId}`, { token: owner.accessToken, body: { name: 'Zombie' } })).status).toBe(404);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(404);
    const lists = await api('GET', '/v1/orgs', { token: editor.accessToken });
    expect(lists.body.items.map((o: { orgId: string }) => o.orgId)).not.toContain(orgId);
    const reuse = await api('POST', '/v1/orgs', { token: other.accessToken, body: { name: 'Reborn', slug } });
    expect(reuse.status).toBe(201);
  });

  /** A team on Pro bought through checkout (the local Stripe pays it), and the id of its Stripe subscription. */
  const onStripePro = async (owner: SignedInUser) => {
    const { orgId } = await createTeam(owner);
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: owner.accessToken, body: { planId: 'pro' } });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(201);
    await payCheckout(checkout.body.url);
    await eventually(
      () => api('GET', `/v1/orgs/${orgId}/subscription`, { token: owner.accessToken }),
      (r) => r.body.planId === 'pro' && r.body.status === 'Active' && r.body.paymentProvider === 'Stripe',
    );
    return { orgId, stripeId: (await billingDb.subscription.get({ orgId }).go()).data!.providerSubscriptionId! };
  };
  const subscriptionOf = async (orgId: string) => (await billingDb.subscription.get({ orgId }).go({ consistent: true })).data!;

  it('cancels the team’s Stripe subscription at once: Stripe charges nothing more, nothing stays due, its last events apply nowhere', async () => {
    const owner = await signUpUser('deleter-pro');
    const { orgId, stripeId } = await onStripePro(owner);
    const res = await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    // Cancelled (again, with the same idempotency key, if the checkout's invoice event came after the deletion).
    const calls = (await stripeCalls()).filter((c) => c.path === `/v1/subscriptions/${stripeId}`);
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls.map((c) => c.method))).toEqual(new Set(['DELETE']));
    // Ours says what Stripe does: ended, on Free, no Stripe subscription; and no schedule finds it again.
    const sub = await subscriptionOf(orgId);
    expect(sub).toMatchObject({ status: 'Cancelled', planId: 'free', paymentProvider: 'Stripe' });
    expect({ stripe: sub.providerSubscriptionId, claim: sub.claimedUntil }).toEqual({ stripe: undefined, claim: undefined });
    expect((await billingDb.due.query.byOrg({ orgId }).go()).data).toEqual([]);
    // The customer.subscription.deleted Stripe sends next names an organization that is gone.
    const raw = JSON.stringify({
      id: `evt_deleted_${randomUUID().slice(0, 8)}`,
      object: 'event',
      type: 'customer.subscription.deleted',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: stripeId, status: 'canceled', metadata: { orgId } } },
    });
    const signature = signStripePayload(raw, inject('cloud').env.STRIPE_WEBHOOK_SECRET!);
    const hook = await api('POST', '/v1/webhooks/stripe', {
      rawBody: raw,
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    });
    expect(hook.body).toMatchObject({ received: true, outcome: 'unknown-organization' });
    // A second delete is a 404 and calls Stripe no more.
    const before = (await stripeCalls()).filter((c) => c.path === `/v1/subscriptions/${stripeId}`).length;
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(404);
    expect((await stripeCalls()).filter((c) => c.path === `/v1/subscriptions/${stripeId}`)).toHaveLength(before);
  });

  it('cancels at Stripe the subscription of a checkout paid after the team was deleted, and applies nothing', async () => {
    const owner = await signUpUser('deleter-late');
    const { orgId } = await createTeam(owner);
    const checkout = await api('POST', `/v1/orgs/${orgId}/checkout`, { token: owner.accessToken, body: { planId: 'pro' } });
    expect(checkout.status).toBe(201);
    expect((await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(204);
    await payCheckout(checkout.body.url);

    // The subscription that payment started at Stripe, found by the organization it names, cancelled by the API.
    const cancelled = await eventually(
      async () => {
        const deleted = new Set(
          (await stripeCalls())
            .filter((c) => c.method === 'DELETE' && c.path.startsWith('/v1/subscriptions/'))
            .map((c) => c.path),
        );
        return (await stripeSubscriptions()).filter(
          (sub) => sub.metadata?.orgId === orgId && deleted.has(`/v1/subscriptions/${sub.id}`),
        );
      },
      (subs) => subs.length > 0,
    );
    // One subscription, cancelled (once, or again with the same idempotency key: the checkout's event and its invoice's each ask).
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]).toMatchObject({ status: 'canceled' });
    expect(await subscriptionOf(orgId)).toMatchObject({ planId: 'free' });
    expect((await subscriptionOf(orgId)).providerSubscriptionId).toBeUndefined();
  });

  it('deletes nothing when Stripe fails to cancel the subscription (502), and leaves the subscription free to change', async () => {
    const owner = await signUpUser('deleter-502');
    const { orgId } = await createTeam(owner);
    // Billed by a Stripe subscription that the (local) Stripe does not know: it refuses to cancel it.
    await billingDb.subscription
      .patch({ orgId })
      .set({ planId: 'pro', paymentProvider: 'Stripe', providerSubscriptionId: `sub_unknown_${orgId}` })
      .go();
    const res = await api('DELETE', `/v1/orgs/${orgId}`, { token: owner.accessToken });
    expect(res.status).toBe(502);
    expect(res.body.detail).toContain('payment provider');
    expect((await api('GET', `/v1/orgs/${orgId}`, { token: owner.accessToken })).status).toBe(200);
    // The subscription is as it was, its claim given back: the next change need not wait for it to expire.
    const after = await subscriptionOf(orgId);
    expect(after).toMatchObject({ status: 'Active', planId: 'pro', providerSubscriptionId: `sub_unknown_${orgId}` });
    expect(after.claimedUntil).toBeUndefined();
    expect((await billingDb.due.query.byOrg({ orgId }).go()).data).not.toEqual([]);
  });

  it('refuses to delete the personal organization (422)', async () => {
    const user = await signUpUser('solo');
    const res = await api('DELETE', `/v1/orgs/${user.personalOrgId}`, { token: user.accessToken });
    expect(res.status).toBe(422);
    expect((await api('GET', `/v1/orgs/${user.personalOrgId}`, { token: user.accessToken })).status).toBe(200);
  });

  it('refuses to invite anyone into the personal organization (422)', async () => {
    const user = await signUpUser('solo-invite');
    const res = await api('POST', `/v1/orgs/${user.personalOrgId}/invitations`, {
      token: user.accessToken,
      body: { email: uniqueEmail('friend'), role: 'editor' },
    });
    expect(res.status).toBe(422);
  });

  it('refuses to turn the personal organization into a team (422)', async () => {
    const user = await signUpUser('solo-type');
    const res = await api('PATCH', `/v1/orgs/${user.personalOrgId}`, { token: user.accessToken, body: { orgType: 'TEAM' } });
    expect(res.status).toBe(422);
  });
});

describe.concurrent('creating a team with an Idempotency-Key', () => {
  it('answers the same organization again for the same key and body, marked as replayed', async () => {
    const owner = await signUpUser('idem');
    const key = `create-${randomUUID()}`;
    const body = { name: 'Once Only', slug: newSlug('once') };
    const first = await api('POST', '/v1/orgs', { token: owner.accessToken, body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await api('POST', '/v1/orgs', { token: owner.accessToken, body, headers: { 'idempotency-key': key } });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    // The replay reads the profile (one GetItem): the domain call that refuses a deleted account does not run then.
    expect(second.dynamoRequests).toEqual(['GetItem']);
    expect(second.body.orgId).toBe(first.body.orgId);
    const mine = await api('GET', '/v1/orgs', { token: owner.accessToken });
    expect(mine.body.items.filter((o: { name: string }) => o.name === 'Once Only')).toHaveLength(1);
  });

  it('takes the same body written otherwise (spacing, field order, a slug in capitals) as the same request', async () => {
    const owner = await signUpUser('idem-same');
    const key = `create-${randomUUID()}`;
    const slug = newSlug('same');
    const send = (rawBody: string) =>
      api('POST', '/v1/orgs', {
        token: owner.accessToken,
        rawBody,
        headers: { 'idempotency-key': key, 'content-type': 'application/json' },
      });
    const first = await send(JSON.stringify({ name: 'Same', slug }));
    expect(first.status).toBe(201);
    const again = await send(`{\n  "slug": "${slug.toUpperCase()}",\n  "name": "Same"\n}`);
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.orgId).toBe(first.body.orgId);
  });

  it('refuses an empty key as malformed (400), as it refuses a short one', async () => {
    const owner = await signUpUser('idem-empty');
    const res = await api('POST', '/v1/orgs', {
      token: owner.accessToken,
      body: { name: 'Empty key', slug: newSlug('empty') },
      headers: { 'idempotency-key': '' },
    });
    expect(res.status).toBe(400);
    expect(errorPaths(res.body)).toEqual(['headers.idempotency-key']);
  });

  it('refuses the same key with a different body (422)', async () => {
    const owner = await signUpUser('idem2');
    const key = `create-${randomUUID()}`;
    const first = await api('POST', '/v1/orgs', {
      token: owner.accessToken,
      body: { name: 'First', slug: newSlug('first') },
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    const other = await api('POST', '/v1/orgs', {
      token: owner.accessToken,
      body: { name: 'Second', slug: newSlug('second') },
      headers: { 'idempotency-key': key },
    });
    expect(other.status).toBe(422);
    const mine = await api('GET', '/v1/orgs', { token: owner.accessToken });
    expect(mine.body.items.map((o: { name: string }) => o.name)).not.toContain('Second');
  });

  it('keeps keys apart per user: another user with the same key creates their own team', async () => {
    const a = await signUpUser('idem-a');
    const b = await signUpUser('idem-b');
    const key = `shared-${randomUUID()}`;
    const first = await api('POST', '/v1/orgs', {
      token: a.accessToken,
      body: { name: 'A', slug: newSlug('a') },
      headers: { 'idempotency-key': key },
    });
    const second = await api('POST', '/v1/orgs', {
      token: b.accessToken,
      body: { name: 'B', slug: newSlug('b') },
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(second.body.orgId).not.toBe(first.body.orgId);
  });

  it('refuses a replay to the token of an account deleted since (404), as it refuses every request of that token', async () => {
    const user = await signUpUser('idem-deleted');
    const key = `create-${randomUUID()}`;
    const body = { name: 'Short-lived team', slug: newSlug('gone') };
    const send = () => api('POST', '/v1/orgs', { token: user.accessToken, body, headers: { 'idempotency-key': key } });
    const created = await send();
    expect(created.status).toBe(201);
    expect((await api('DELETE', `/v1/orgs/${created.body.orgId}`, { token: user.accessToken })).status).toBe(204);
    expect((await api('DELETE', '/v1/me', { token: user.accessToken })).status).toBe(204);

    const afterDeletion = await send();
    expect([afterDeletion.status, afterDeletion.headers.get('idempotent-replayed')]).toEqual([404, null]);
    expect(afterDeletion.body.detail).toBe('Your profile does not exist or was deleted');
  });

  it('lets a refused request be retried with the same key once fixed', async () => {
    const owner = await signUpUser('idem-retry');
    const other = await signUpUser('idem-retry-x');
    const { slug } = await createTeam(other);
    const key = `retry-${randomUUID()}`;
    const refused = await api('POST', '/v1/orgs', {
      token: owner.accessToken,
      body: { name: 'Retry', slug },
      headers: { 'idempotency-key': key },
    });
    expect(refused.status).toBe(409);
    const retried = await api('POST', '/v1/orgs', {
      token: owner.accessToken,
      body: { name: 'Retry', slug: newSlug('retry') },
      headers: { 'idempotency-key': key },
    });
    expect(retried.status).toBe(201);
  });
});
