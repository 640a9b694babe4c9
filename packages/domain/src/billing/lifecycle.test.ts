import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUBSCRIPTION_STATUSES } from './entities.ts';
import { SUBSCRIPTION_EVENTS, TRANSITIONS, canTake, effectivePlanId, nextStatus, stateDiagram } from './lifecycle.ts';

describe('the subscription transition table', () => {
  it('moves each status by the rules written down', () => {
    const expected: Array<[string, string, string]> = [
      ['Active', 'trial.started', 'Trial'],
      ['Active', 'payment.failed', 'Active'],
      ['Active', 'grace.ended', 'Suspended'],
      ['Active', 'period.ended.cancelled', 'Cancelled'],
      ['Active', 'provider.cancelled', 'Cancelled'],
      ['Trial', 'payment.succeeded', 'Active'],
      ['Trial', 'trial.ended', 'Expired'],
      ['Trial', 'period.ended.cancelled', 'Cancelled'],
      ['Suspended', 'payment.succeeded', 'Active'],
      ['Suspended', 'suspension.ended', 'Expired'],
      ['Suspended', 'period.renewed', 'Suspended'],
      ['Cancelled', 'payment.succeeded', 'Active'],
      ['Cancelled', 'period.renewed', 'Cancelled'],
      ['Expired', 'payment.succeeded', 'Active'],
      ['Expired', 'trial.started', 'Trial'],
      // A plan sold by contract applies at once, from wherever the subscription stands.
      ['Active', 'contract.started', 'Active'],
      ['Trial', 'contract.started', 'Active'],
      ['Suspended', 'contract.started', 'Active'],
      ['Cancelled', 'contract.started', 'Active'],
      ['Expired', 'contract.started', 'Active'],
    ];
    for (const [from, event, to] of expected) expect(nextStatus(from as never, event as never), `${from} --${event}-->`).toBe(to);
  });

  it('refuses what the table does not allow with a 409', () => {
    const refused: Array<[string, string]> = [
      ['Trial', 'plan.upgraded'],
      ['Trial', 'grace.ended'],
      ['Suspended', 'cancel.requested'],
      ['Suspended', 'trial.started'],
      ['Cancelled', 'grace.ended'],
      ['Expired', 'cancel.requested'],
      ['Active', 'trial.ended'],
      ['Active', 'suspension.ended'],
    ];
    for (const [from, event] of refused) {
      expect(canTake(from as never, event as never)).toBe(false);
      expect(() => nextStatus(from as never, event as never)).toThrow(expect.objectContaining({ status: 409 }));
    }
  });

  it('names only known statuses and events, and lets every status be left by a payment', () => {
    for (const [from, events] of Object.entries(TRANSITIONS)) {
      expect(SUBSCRIPTION_STATUSES).toContain(from);
      for (const [event, to] of Object.entries(events)) {
        expect(SUBSCRIPTION_EVENTS).toContain(event);
        expect(SUBSCRIPTION_STATUSES).toContain(to);
      }
      expect(TRANSITIONS[from as keyof typeof TRANSITIONS]['payment.succeeded']).toBe('Active');
    }
  });

  it('uses the plan only while Active or Trial: otherwise the organization runs on Free', () => {
    expect(effectivePlanId({ status: 'Active', planId: 'team' })).toBe('team');
    expect(effectivePlanId({ status: 'Trial', planId: 'pro' })).toBe('pro');
    for (const status of ['Suspended', 'Cancelled', 'Expired'] as const)
      expect(effectivePlanId({ status, planId: 'team' })).toBe('free');
  });

  it('is the state diagram of the README', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../../README.md'), 'utf8');
    const block = /```mermaid\n(stateDiagram-v2[\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block).toBe(stateDiagram());
  });
});
