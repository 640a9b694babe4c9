import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callerFromEvent } from '@platform/http/caller';

/** The sample events in events/ stay valid inputs for the code that reads them. */
const load = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '../events', name), 'utf8'));

describe('sample events', () => {
  it('get-me.json carries a platform admin as API Gateway renders JWT claims', () => {
    expect(callerFromEvent(load('get-me.json'))).toMatchObject({ kind: 'user', isPlatformAdmin: true, groups: ['admin'] });
  });

  it('create-org.json has a valid body for its route', async () => {
    const { createOrg } = await import('@platform/api/routes/identity/orgs');
    const event = load('create-org.json');
    expect(event.routeKey).toBe(`${createOrg.method} ${createOrg.path}`);
    expect(createOrg.schemas.body.safeParse(JSON.parse(event.body)).success).toBe(true);
  });

  it('authorizer-api-key.json is refused by the authorizer (no such key), without an error', async () => {
    const { handler } = await import('../functions/identity/authorizer.ts');
    expect(await handler(load('authorizer-api-key.json'))).toEqual({ isAuthorized: false, context: {} });
  });

  it('post-confirmation.json provisions its user, and again without change', async () => {
    const { handler } = await import('../functions/identity/post-confirmation.ts');
    const event = load('post-confirmation.json');
    expect(await handler(event)).toEqual(event);
    expect(await handler(event)).toEqual(event);
  });
});
