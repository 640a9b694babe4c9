import { beforeAll, describe, expect, it } from 'vitest';
import { api, createTeam, errorPaths, signIn, signUpUser, type ApiResponse, type SignedInUser } from '../helpers/api.ts';

/**
 * The identity lists (and the credit ledger) page with cursors that are checked, not trusted: every page is a
 * `nextCursor` of that list, and a garbage cursor or one of another organization answers 400
 * problem+json before anything is read (never a 500, never another tenant's rows); one of
 * another list of the same organization is a 400 too.
 */
interface Team {
  owner: SignedInUser;
  orgId: string;
}
let a: Team;
let b: Team;

/** A team with two more members and three API clients (each audited); its owner signed in once more. */
async function team(name: string): Promise<Team> {
  const [owner, editor, viewer] = await Promise.all([
    signUpUser(`${name}-owner`),
    signUpUser(`${name}-editor`),
    signUpUser(`${name}-viewer`),
  ]);
  const { orgId } = await createTeam(owner, [
    { user: editor, role: 'editor' },
    { user: viewer, role: 'viewer' },
  ]);
  for (const label of ['one', 'two', 'three']) {
    const created = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
      token: owner.accessToken,
      body: { name: `${name} ${label}`, scopes: ['org:read'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  await signIn(owner.email);
  return { owner, orgId };
}

beforeAll(async () => {
  [a, b] = await Promise.all([team('cursor-a'), team('cursor-b')]);
}, 60_000);

/**
 * Each list: where it is for a team (the owner reads it), what identifies its items, how many
 * there are at least, and the rows it reads when two lists read the same ones (a membership of
 * the owner's is a place in both the team's members and the owner's organizations).
 */
const LISTS = [
  { name: 'members', path: (t: Team) => `/v1/orgs/${t.orgId}/members`, id: 'userId', count: 3, rows: 'membership' },
  { name: 'API clients', path: (t: Team) => `/v1/orgs/${t.orgId}/api-clients`, id: 'clientId', count: 3 },
  { name: 'audit events', path: (t: Team) => `/v1/orgs/${t.orgId}/audit-events`, id: 'eventId', count: 8 },
  { name: 'invitations', path: (t: Team) => `/v1/orgs/${t.orgId}/invitations`, id: 'invitationId', count: 2 },
  { name: 'credit transactions', path: (t: Team) => `/v1/orgs/${t.orgId}/credits/transactions`, id: 'transactionId', count: 1 },
  { name: 'owner’s organizations', path: () => '/v1/me/orgs', id: 'orgId', count: 2, rows: 'membership' },
  { name: 'owner’s sessions', path: () => '/v1/me/sessions', id: 'sessionId', count: 1 },
] as const;

const list = (t: Team, path: string, query = '') => api('GET', `${path}${query}`, { token: t.owner.accessToken });
const after = (cursor: string, limit = 1) => `?limit=${limit}&cursor=${encodeURIComponent(cursor)}`;

function expectBadCursor(res: ApiResponse) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(errorPaths(res.body)).toEqual(['query.cursor']);
  // Refused before the list is read: the cursor is never handed to DynamoDB.
  expect(res.dynamoRequests).not.toContain('Query');
}

describe.each(LISTS)('the $name list', (listed) => {
  const { name, path: pathOf, id, count } = listed;
  it('pages one item at a time through every item, each once', async () => {
    const path = pathOf(a);
    const all = (await list(a, path, '?limit=100')).body.items.map((item: Record<string, string>) => item[id]);
    expect(all.length).toBeGreaterThanOrEqual(count);
    const seen: string[] = [];
    let res = await list(a, path, '?limit=1');
    for (;;) {
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((item: Record<string, string>) => item[id]));
      if (!res.body.nextCursor) break;
      res = await list(a, path, after(res.body.nextCursor));
    }
    expect(seen).toEqual(all);
  });

  it('refuses a garbage cursor with 400', async () => {
    for (const garbage of [
      'garbage',
      'bm90LWEtY3Vyc29y',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('{"pk":1}').toString('base64url'),
    ])
      expectBadCursor(await list(a, pathOf(a), `?cursor=${garbage}`));
  });

  it('refuses its own cursor with a key attribute changed to a number with 400 (the SDK refused 1e300 with a 500)', async () => {
    const mine = await list(a, pathOf(a), '?limit=1');
    const key = JSON.parse(Buffer.from(mine.body.nextCursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const changed = Object.keys(key).filter((name) => name !== 'pk');
    expect(changed.length).toBeGreaterThan(0);
    for (const name of changed)
      for (const value of [1e300, 7])
        expectBadCursor(
          await list(a, pathOf(a), `?cursor=${Buffer.from(JSON.stringify({ ...key, [name]: value })).toString('base64url')}`),
        );
  });

  it('refuses a cursor of another organization or user with 400, showing none of its items', async () => {
    const theirs = await list(b, pathOf(b), '?limit=1');
    expect(theirs.body.nextCursor).toEqual(expect.any(String));
    const res = await list(a, pathOf(a), after(theirs.body.nextCursor, 100));
    expectBadCursor(res);
    expect(JSON.stringify(res.body)).not.toContain(b.orgId);
  });

  it('refuses a cursor of another list with 400', async () => {
    let refused = 0;
    const rows = 'rows' in listed ? listed.rows : name;
    for (const other of LISTS.filter((l) => ('rows' in l ? l.rows : l.name) !== rows)) {
      const cursor = (await list(a, other.path(a), '?limit=1')).body.nextCursor;
      if (!cursor) continue;
      expectBadCursor(await list(a, pathOf(a), after(cursor)));
      refused++;
    }
    expect(refused).toBeGreaterThanOrEqual(4);
  });
});
