import { beforeAll, describe, expect, it } from 'vitest';
import { recordUsage } from '@platform/domain/usage/logs';
import {
  api,
  createTeam,
  errorPaths,
  signUpPlatformAdmin,
  signUpUser,
  uniqueEmail,
  type ApiResponse,
  type SignedInUser,
} from '../helpers/api.ts';

/**
 * The credit ledger read by a date range. An organization's ledger shares its index partition
 * (gsi1) with its usage logs, invitations, payments and API clients: a range left open at one
 * end must still read only ledger rows, or the page fills with rows the list drops and its
 * cursor names rows the caller may not read. And a cursor of those other lists is refused
 * before anything is read, whichever range it is sent with.
 */
let owner: SignedInUser;
let orgId: string;
let billingKey: string;
let clientId: string;
let invitationId: string;
const usageIds: string[] = [];

const EARLY = '2000-01-01T00:00:00Z';
const LATE = '2099-01-01T00:00:00Z';
/** Every way to give a range: none, `from` alone, `to` alone, both. */
const RANGES = ['', `from=${EARLY}`, `to=${LATE}`, `from=${EARLY}&to=${LATE}`];

beforeAll(async () => {
  const admin = await signUpPlatformAdmin('range-admin');
  owner = await signUpUser('range-owner');
  ({ orgId } = await createTeam(owner));
  const key = await api('POST', `/v1/orgs/${orgId}/api-clients`, {
    token: owner.accessToken,
    body: { name: 'billing reader', scopes: ['billing:read'] },
  });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  ({ key: billingKey, clientId } = key.body);
  const invitation = await api('POST', `/v1/orgs/${orgId}/invitations`, {
    token: owner.accessToken,
    body: { email: uniqueEmail('range-invitee'), role: 'viewer' },
  });
  expect(invitation.status).toBe(201);
  invitationId = invitation.body.invitationId;
  // A second ledger row beside the Free plan's grant, so that a page of one has a ledger row after it.
  const adjusted = await api('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, {
    token: admin.accessToken,
    body: { amount: 25, reason: 'Range test' },
  });
  expect(adjusted.status).toBe(201);
  // Usage logs sort after the ledger's rows in gsi1, and their keys carry the caller's idempotency keys.
  for (let i = 0; i < 6; i++) {
    const second = String(i).padStart(2, '0');
    const log = await recordUsage(
      {
        orgId,
        userId: owner.userId,
        agentType: 'chat',
        provider: 'bedrock',
        model: 'anthropic.claude-3-haiku',
        inputTokens: 1,
        outputTokens: 1,
        inputCostMicros: 1,
        outputCostMicros: 1,
        credits: 1,
        requestAt: `2031-03-04T10:00:${second}.000Z`,
        responseAt: `2031-03-04T10:00:${second}.500Z`,
        status: 'success',
      },
      `range-secret-request-${i}`,
    );
    usageIds.push(log.usageId);
  }
}, 60_000);

const ledger = (query: string, auth: { token?: string; apiKey?: string } = { token: owner.accessToken }) =>
  api('GET', `/v1/orgs/${orgId}/credits/transactions?${query}`, auth);
const ids = (res: ApiResponse) => res.body.items.map((t: { transactionId: string }) => t.transactionId);
const keyOf = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, string>;

/** Every page of the ledger in a range, one row a page, with the cursors handed out. */
async function walk(range: string, auth?: { token?: string; apiKey?: string }) {
  const seen: string[] = [];
  const cursors: string[] = [];
  let res = await ledger(`limit=1&${range}`, auth);
  for (let page = 0; page < 20; page++) {
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    seen.push(...ids(res));
    const cursor = res.body.nextCursor as string | null;
    if (!cursor) return { seen, cursors };
    cursors.push(cursor);
    res = await ledger(`limit=1&${range}&cursor=${encodeURIComponent(cursor)}`, auth);
  }
  throw new Error('Too many pages');
}

function expectBadCursor(res: ApiResponse) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(errorPaths(res.body)).toEqual(['query.cursor']);
  // Refused before the list is read: the cursor is never handed to DynamoDB.
  expect(res.dynamoRequests).not.toContain('Query');
}

describe('the credit ledger by a date range open at one end', () => {
  it('answers the ledger’s rows on its first page with `from` alone or `to` alone, as with no range', async () => {
    const whole = await ledger('limit=100');
    expect(whole.status).toBe(200);
    expect(whole.body.items).toHaveLength(2);
    for (const range of RANGES) {
      const first = await ledger(`limit=1&${range}`);
      expect(first.status, range).toBe(200);
      expect(ids(first), range).toEqual(ids(whole).slice(0, 1));
      expect((await walk(range)).seen, range).toEqual(ids(whole));
    }
  });

  it('hands a billing:read key cursors of ledger rows only, never of usage logs, invitations or API clients', async () => {
    // The key may not read those lists itself.
    for (const list of ['usage', 'invitations', 'api-clients'])
      expect((await api('GET', `/v1/orgs/${orgId}/${list}`, { apiKey: billingKey })).status, list).toBe(403);
    for (const range of RANGES) {
      const { cursors } = await walk(range, { apiKey: billingKey });
      expect(cursors.length, range).toBeGreaterThan(0);
      for (const cursor of cursors) {
        const key = keyOf(cursor);
        expect(key.gsi1sk, range).toMatch(/^\$credittransaction_1#/);
        const text = JSON.stringify(key);
        for (const foreign of [...usageIds, invitationId, clientId, 'range-secret-request'])
          expect(text, range).not.toContain(foreign);
      }
    }
  });

  it('refuses a cursor of the usage, invitation, API client, member or audit list with 400 before reading, in every range', async () => {
    const others: string[] = [];
    for (const list of ['usage', 'invitations', 'api-clients', 'members', 'audit-events']) {
      const res = await api('GET', `/v1/orgs/${orgId}/${list}?limit=1`, { token: owner.accessToken });
      expect(res.body.nextCursor, list).toEqual(expect.any(String));
      others.push(res.body.nextCursor);
    }
    for (const range of RANGES)
      for (const cursor of others) expectBadCursor(await ledger(`limit=5&${range}&cursor=${encodeURIComponent(cursor)}`));
  });

  it('hands out no cursor that the usage list takes as its own', async () => {
    for (const range of RANGES) {
      const cursor = (await ledger(`limit=1&${range}`)).body.nextCursor as string;
      expect(cursor, range).toEqual(expect.any(String));
      const res = await api('GET', `/v1/orgs/${orgId}/usage?limit=1&cursor=${encodeURIComponent(cursor)}`, {
        token: owner.accessToken,
      });
      expectBadCursor(res);
    }
  });
});
