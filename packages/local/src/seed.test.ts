import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { resolveRoute } from '@platform/domain/gateway/routing';
import type { RouteRequest } from '@platform/domain/gateway/types';
import { createRule } from '@platform/domain/hub/routing-rules';
import { ruleConditions } from '@platform/domain/hub/schemas/routing-rules';
import { newOrgId, orgOwnerOf, statusOf } from '../../../test/helpers/hub.ts';
import { REPO_ROOT } from './cloud.ts';
import { ensureSampleEventAccount, LOCAL_ROUTING_RULES } from './seed.ts';

/** What `npm run dev` seeds, as a developer following the README meets it. */
describe('the dev seed', () => {
  it('provisions the account the sample Stripe event pays for, so `npm run -s stripe:sign -- --post` applies it', async () => {
    await ensureSampleEventAccount();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'packages/local/src/bin/sign-stripe-event.ts', '--post', `${inject('cloud').url}/v1/webhooks/stripe`],
      { cwd: REPO_ROOT, env: process.env },
    );
    const [status, ...body] = stdout.trim().split(' ');
    const sample = JSON.parse(JSON.parse(readFileSync(join(REPO_ROOT, 'events/stripe-webhook.json'), 'utf8')).body);
    expect(status).toBe('200');
    // Applied on its first delivery to this cloud (test/events.test.ts may deliver it first): never an unknown organization.
    expect(JSON.parse(body.join(' '))).toMatchObject({ received: true, eventId: sample.id });
    expect(['applied', 'duplicate-event']).toContain(JSON.parse(body.join(' ')).outcome);
  });

  it('routes the catalogue’s models to the local ones, and an unknown model is still a 404', async () => {
    // The same rules as an organization's, so that they stay out of every other test's way.
    const orgId = newOrgId();
    for (const rule of LOCAL_ROUTING_RULES) {
      expect(ruleConditions.safeParse(rule.conditions).success).toBe(true);
      await createRule(orgOwnerOf(orgId), { ...rule, priority: 100, fallbacks: [], isActive: true });
    }
    const request = (
      requestedModel: string,
      type: RouteRequest['type'] = 'TEXT',
      operation?: RouteRequest['operation'],
    ): RouteRequest => ({
      orgId,
      requestedModel,
      type,
      planId: 'free',
      apiKeyStrategy: 'PLATFORM',
      ...(operation ? { operation } : {}),
    });
    for (const model of ['nova-micro', 'claude-3-5-haiku', 'gpt-4o'])
      expect((await resolveRoute(request(model), { random: () => 0 })).candidates[0]!.modelId).toBe('local-chat');
    expect((await resolveRoute(request('text-embedding-3-small'))).candidates[0]!.modelId).toBe('local-embed');
    expect(await statusOf(resolveRoute(request('nope-model')))).toBe(404);
    expect((await resolveRoute(request('nova-canvas', 'IMAGE'))).candidates[0]!.modelId).toBe('local-image');
    expect(await statusOf(resolveRoute(request('nope-image', 'IMAGE')))).toBe(404);
    // A model asked for what it cannot do is the 422 it is on AWS, never served by the other local model.
    for (const model of ['claude-3-5-haiku', 'local-chat'])
      expect(await statusOf(resolveRoute(request(model, 'TEXT', 'embeddings')))).toBe(422);
    for (const model of ['text-embedding-3-small', 'local-embed'])
      expect(await statusOf(resolveRoute(request(model, 'TEXT', 'chat')))).toBe(422);
  });
});
