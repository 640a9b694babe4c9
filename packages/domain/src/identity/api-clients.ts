import { randomBytes } from 'node:crypto';
import { ForbiddenError, NotFoundError, ConflictError, UnprocessableError, ValidationError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { safeEqual, sha256 } from '../shared/secrets.ts';
import { auditBy, auditItem } from './audit.ts';
import { effectiveScopes, isMembershipLive, memberPermissions, type Caller, type OrgAccess } from './access.ts';
import { db, type ApiClient, type Membership } from './entities.ts';
import { isPermission } from './permissions.ts';
import { transactWrite, put, update } from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';

/** Keys read `ak_<id>.<secret>`: the id finds the row, the secret is checked against its hash. */
const KEY_PATTERN = /^(ak_[0-9a-z]{26})\.([A-Za-z0-9_-]{43})$/;
const LAST_USED_GRANULARITY_MS = 60_000;

export const apiClientView = (c: ApiClient) => {
  const { secretHash: _hidden, ...rest } = c as ApiClient & { secretHash?: string };
  return { ...rest, scopes: [...(c.scopes ?? [])].sort() };
};

/**
 * The member a new key acts for, and what bounds its scopes: a user's role permissions (not a
 * platform admin's group, which no key carries), or for a key made by a key, that key's member
 * and its already bounded permissions. Checked here at creation and again at every use
 * (`authorizeOrg`), so a key never acts beyond its member's current permissions. A key made by
 * a key that expires is bounded by that expiry too (`until`): it never outlives the key that made it.
 */
function keyHolder(access: OrgAccess): { memberId: string; bound: ReadonlySet<string>; until?: string } {
  if (access.caller.kind === 'apiClient')
    return { memberId: access.caller.memberId, bound: access.permissions, until: access.caller.expiresAt };
  if (!isMembershipLive(access.membership))
    throw new ForbiddenError('Only a member of the organization can create its API clients: a key acts for its member');
  return { memberId: access.caller.userId, bound: memberPermissions(access.org, access.membership) };
}

export async function createApiClient(access: OrgAccess, input: { name: string; scopes: string[]; expiresAt?: string }) {
  const unknown = input.scopes.filter((s) => !isPermission(s));
  if (unknown.length)
    throw new ValidationError(
      'Unknown scopes',
      unknown.map((s) => ({ path: 'scopes', message: `Unknown scope ${s}` })),
    );
  const { memberId, bound, until } = keyHolder(access);
  const beyond = input.scopes.filter((s) => !bound.has(s));
  if (beyond.length) throw new ForbiddenError(`An API client cannot hold scopes you do not hold: ${beyond.join(', ')}`);
  if (input.expiresAt && new Date(input.expiresAt) <= new Date())
    throw new ValidationError('The expiry must be in the future', [{ path: 'expiresAt', message: 'In the past' }]);
  // Asked for explicitly, a later expiry is refused rather than quietly shortened; left out, it is the making key's.
  if (until && input.expiresAt && new Date(input.expiresAt) > new Date(until))
    throw new UnprocessableError(
      `A key made by a key cannot outlive it: the key you call with expires at ${until}. Ask for an expiresAt no later, or leave it out to expire with that key`,
      [{ path: 'expiresAt', message: `Later than ${until}, when the key that makes it expires` }],
    );
  const expiresAt = input.expiresAt ?? until;

  const clientId = newId('ak');
  const secret = randomBytes(32).toString('base64url');
  const key = `${clientId}.${secret}`;
  const now = new Date().toISOString();
  const client = {
    clientId,
    orgId: access.orgId,
    name: input.name,
    secretHash: sha256(secret),
    keyPreview: `${clientId}.…${secret.slice(-4)}`,
    scopes: input.scopes,
    isActive: true,
    createdBy: access.actorId,
    memberId,
    expiresAt,
    createdAt: now,
    updatedAt: now,
  };
  await transactWrite([
    put(db.apiClient.create(client)),
    put(
      db.auditEvent.create(
        auditItem({
          ...auditBy(access),
          action: 'api-client.created',
          targetType: 'api-client',
          targetId: clientId,
          details: { name: input.name, scopes: input.scopes },
        }),
      ),
    ),
  ]);
  return { ...apiClientView(client), key };
}

/** The member a key acts for: a key made before `memberId` was kept acts for its creator. */
const memberOf = (client: ApiClient) => client.memberId ?? client.createdBy;

/** Whether a key still authenticates at all (active, not revoked, not expired). */
const isLive = (client: ApiClient, now = new Date()) =>
  client.isActive !== false && !client.revokedAt && !(client.expiresAt && new Date(client.expiresAt) <= now);

/**
 * A page of the organization's keys, each with its `effectiveScopes`: what it may do now, as
 * `authorizeOrg` computes it (nothing for a key that no longer authenticates). Their members
 * are read in one batch: the page costs a query and a batch read. A member the batch could not
 * read this time leaves its keys without `effectiveScopes` rather than guessing.
 */
export async function listApiClients(access: OrgAccess, options: { cursor?: string; limit?: number }) {
  const { data, cursor } = await pageOf(db.apiClient.query.byOrg({ orgId: access.orgId }), {
    cursor: options.cursor,
    limit: options.limit ?? 50,
    order: 'asc',
  });
  const memberIds = [...new Set(data.filter((c) => isLive(c)).map(memberOf))];
  const read = memberIds.length
    ? await db.membership.get(memberIds.map((userId) => ({ orgId: access.orgId, userId }))).go({ consistent: true })
    : { data: [] as Membership[], unprocessed: [] as Array<{ userId: string }> };
  const members = new Map<string, Membership | null>(memberIds.map((id) => [id, null]));
  for (const member of read.data) members.set(member.userId, member);
  for (const missed of read.unprocessed) members.delete(missed.userId);
  const items = data.map((client) => {
    const view = apiClientView(client);
    if (!isLive(client)) return { ...view, effectiveScopes: [] };
    const member = members.get(memberOf(client));
    return member === undefined ? view : { ...view, effectiveScopes: effectiveScopes(view, access.org, member) };
  });
  return { items, nextCursor: cursor };
}

export async function revokeApiClient(access: OrgAccess, clientId: string) {
  const { data } = await db.apiClient.get({ clientId }).go();
  if (!data || data.orgId !== access.orgId) throw new NotFoundError('API client not found');
  const alreadyRevoked = () => new ConflictError('The API client is already revoked');
  if (data.revokedAt) throw alreadyRevoked();
  // Revoked once: of two revocations at once, the second finds it revoked and audits nothing.
  const result = await transactWrite([
    update(
      db.apiClient
        .patch({ clientId })
        .set({ isActive: false, revokedAt: new Date().toISOString(), revokedBy: access.actorId })
        .where(({ revokedAt }, { notExists }) => notExists(revokedAt)),
    ),
    put(
      db.auditEvent.create(
        auditItem({ ...auditBy(access), action: 'api-client.revoked', targetType: 'api-client', targetId: clientId }),
      ),
    ),
  ]);
  if (result.canceled) throw alreadyRevoked();
}

/**
 * Turns a presented key into a caller, or null. Records the last use at most once a
 * minute, with a conditional write, so a busy key does not write on every request.
 */
export async function authenticateApiKey(key: string): Promise<Extract<Caller, { kind: 'apiClient' }> | null> {
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  const [, clientId, secret] = match as unknown as [string, string, string];
  const { data } = await db.apiClient.get({ clientId }).go();
  if (!data || !data.isActive || !isLive(data)) return null;
  if (!safeEqual(sha256(secret), (data as ApiClient & { secretHash: string }).secretHash)) return null;
  const now = Date.now();
  if (!data.lastUsedAt || now - Date.parse(data.lastUsedAt) > LAST_USED_GRANULARITY_MS) {
    const cutoff = new Date(now - LAST_USED_GRANULARITY_MS).toISOString();
    await db.apiClient
      .patch({ clientId })
      .set({ lastUsedAt: new Date(now).toISOString() })
      .where(({ lastUsedAt }, { notExists, lt }) => `${notExists(lastUsedAt)} OR ${lt(lastUsedAt, cutoff)}`)
      .go()
      .catch(() => undefined); // another request recorded it first
  }
  // A key made by a key before `memberId` existed finds no member as its creator: it stops working.
  return {
    kind: 'apiClient',
    clientId,
    orgId: data.orgId,
    scopes: [...(data.scopes ?? [])],
    memberId: memberOf(data),
    createdAt: data.createdAt,
    ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
  };
}
