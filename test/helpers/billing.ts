import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Subscription } from '@platform/domain/billing/entities';
import { startingPlanWrites } from '@platform/domain/billing/onboarding';
import { commitChange, getSubscription } from '@platform/domain/billing/subscription-store';
import { db } from '@platform/domain/identity/entities';
import { newId } from '@platform/domain/shared/ids';
import { put, transactWrite } from '@platform/domain/shared/transactions';

/**
 * An organization as identity creates it, on Free, its first period starting at `start` (a
 * test of the schedules dates it in the past, never runs a job in the future). Its slug starts
 * with `label`.
 */
export async function newBillingOrg(label: string, start: string): Promise<string> {
  const orgId = newId('org');
  const owner = randomUUID();
  await transactWrite([
    put(
      db.organization.create({
        orgId,
        name: `${label} test`,
        slug: `${label}-${orgId.slice(-12).toLowerCase()}`,
        orgType: 'TEAM',
        ownerId: owner,
        createdBy: owner,
        roles: [],
        version: 1,
      }),
    ),
    ...(await startingPlanWrites(orgId, start)),
  ]);
  return orgId;
}

/** Moves a subscription to the given state as a change would (markers, org plan, version). */
export async function setSubscription(orgId: string, patch: Partial<Subscription>): Promise<Subscription> {
  const prev = await getSubscription(orgId);
  const committed = await commitChange({ prev, next: { ...prev, ...patch } });
  expect(committed.ok).toBe(true);
  return getSubscription(orgId);
}
