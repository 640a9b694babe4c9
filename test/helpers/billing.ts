import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Subscription } from '@platform/domain/billing/entities';
import { startingPlanWrites } from '@platform/domain/billing/onboarding';
import { commitChange, getSubscription } from '@platform/domain/billing/subscription-store';
import { db } from '@platform/domain/identity/entities';
import { dynamo } from '@platform/domain/shared/dynamo';
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

type Command = { constructor: { name: string }; input: unknown };

/** Every DynamoDB request sent from now on, by command name (the client's `send` is wrapped: restore it after the test). */
export function sentRequests(): string[] {
  const client = dynamo();
  const sent: string[] = [];
  const previous = client.send;
  client.send = ((command: Command, options?: never) => {
    sent.push(command.constructor.name);
    return previous.call(client, command as never, options);
  }) as never;
  return sent;
}

/**
 * Runs `action` once, just before the first DynamoDB request that `matches` is sent (the request
 * then goes on): a deterministic interleaving of a job, a route or an event with another change.
 * The client's `send` is wrapped: restore it after the test.
 */
export function beforeRequest(matches: (name: string, input: string) => boolean, action: () => Promise<unknown>) {
  const client = dynamo();
  const state = { fired: false, error: undefined as unknown };
  let running = false;
  const previous = client.send;
  client.send = (async (command: Command, options?: never) => {
    if (!state.fired && !running && matches(command.constructor.name, JSON.stringify(command.input))) {
      state.fired = true;
      running = true;
      try {
        await action();
      } catch (error) {
        state.error = error;
      } finally {
        running = false;
      }
    }
    return previous.call(client, command as never, options);
  }) as never;
  return state;
}
