import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { billingDb, type Subscription } from '@platform/domain/billing/entities';
import { runSubscriptionJob } from '@platform/domain/billing/jobs';
import { startingPlanWrites } from '@platform/domain/billing/onboarding';
import { commitChange, getSubscription, plusDays, TRIAL_REMINDER_DAYS } from '@platform/domain/billing/subscription-store';
import { db } from '@platform/domain/identity/entities';
import { notificationDb } from '@platform/domain/notifications/entities';
import { newId } from '@platform/domain/shared/ids';
import { put, transactWrite } from '@platform/domain/shared/transactions';

/**
 * The `trial-reminder` schedule against DynamoDB Local: a trial that ends within
 * `TRIAL_REMINDER_DAYS` tells the organization's owners and admins once, however often the job
 * runs. The job runs at the real "now" and finds every marker due, other files' included; these
 * tests look only at their own fresh organizations.
 */
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

const ROLES = ['owner', 'admin', 'editor', 'viewer', 'former-admin'] as const;
type Person = (typeof ROLES)[number];

/** An organization on Free with one member of each role (and an admin who has left), as identity writes them. */
async function newOrgWithMembers() {
  const orgId = newId('org');
  const people = Object.fromEntries(ROLES.map((role) => [role, randomUUID()])) as Record<Person, string>;
  await transactWrite([
    put(
      db.organization.create({
        orgId,
        name: 'Trial reminder test',
        slug: `trial-${orgId.slice(-12)}`,
        orgType: 'TEAM',
        ownerId: people.owner,
        createdBy: people.owner,
        roles: [],
        version: 1,
      }),
    ),
    ...(await startingPlanWrites(orgId, ago(12))),
  ]);
  await Promise.all(
    ROLES.map((role) =>
      db.membership
        .create({
          orgId,
          userId: people[role],
          email: `${role}-${people[role].slice(0, 8)}@example.test`,
          role: role === 'former-admin' ? 'admin' : role,
          assignedBy: people.owner,
          assignedAt: ago(12),
          isActive: role !== 'former-admin',
        })
        .go(),
    ),
  );
  return { orgId, people };
}

/** Puts the organization on a Pro trial ending at `trialEnd`, as a change would (markers included). */
async function startTrial(orgId: string, trialEnd: string): Promise<Subscription> {
  const prev = await getSubscription(orgId);
  const next: Subscription = {
    ...prev,
    planId: 'pro',
    status: 'Trial',
    trialStart: ago(12),
    trialEnd,
    currentPeriodStart: ago(12),
    currentPeriodEnd: trialEnd,
  };
  expect((await commitChange({ prev, next })).ok).toBe(true);
  return getSubscription(orgId);
}

async function trialEndingOf(userId: string) {
  const { data } = await notificationDb.notification.query.byId({ userId }).go({ pages: 'all' });
  return data.filter((n) => n.type === 'trial-ending');
}

const marker = async (orgId: string, kind: 'trial-reminder' | 'trial-end') =>
  (await billingDb.due.get({ orgId, kind }).go({ consistent: true })).data;

describe('the trial-reminder job (DynamoDB Local)', () => {
  it('tells each owner and admin once that the trial ends in two days, run twice, and clears its marker', async () => {
    const { orgId, people } = await newOrgWithMembers();
    const trialEnd = plusDays(new Date().toISOString(), 2);
    const trial = await startTrial(orgId, trialEnd);
    expect(await marker(orgId, 'trial-reminder')).toMatchObject({ dueAt: plusDays(trialEnd, -TRIAL_REMINDER_DAYS) });

    for (let run = 0; run < 2; run++) expect((await runSubscriptionJob('trial-reminder')).failed).toEqual([]);

    for (const role of ROLES) {
      const sent = await trialEndingOf(people[role]);
      if (role !== 'owner' && role !== 'admin') {
        expect(sent, role).toEqual([]);
        continue;
      }
      expect(sent, role).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        orgId,
        title: 'Your trial ends soon',
        message: expect.stringContaining('ends in 2 days'),
        metadata: { planId: 'pro', trialEnd },
        isRead: false,
      });
    }
    // Done with: the marker is gone, so later runs do not read the subscription again.
    expect(await marker(orgId, 'trial-reminder')).toBeNull();
    // The reminder changes nothing else: still on trial, its end still due.
    expect(await getSubscription(orgId)).toEqual(trial);
    expect(await marker(orgId, 'trial-end')).toMatchObject({ dueAt: trialEnd });
  });

  it('says nothing yet about a trial that ends in more than three days, and keeps its marker for later', async () => {
    const { orgId, people } = await newOrgWithMembers();
    const trialEnd = plusDays(new Date().toISOString(), TRIAL_REMINDER_DAYS + 7);
    await startTrial(orgId, trialEnd);

    expect((await runSubscriptionJob('trial-reminder')).failed).toEqual([]);

    expect(await trialEndingOf(people.owner)).toEqual([]);
    expect(await marker(orgId, 'trial-reminder')).toMatchObject({ dueAt: plusDays(trialEnd, -TRIAL_REMINDER_DAYS) });
  });
});
