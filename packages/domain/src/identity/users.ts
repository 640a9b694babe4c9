import { createHash } from 'node:crypto';
import { clock } from '../shared/clock.ts';
import { ConflictError, NotFoundError } from '../shared/errors.ts';
import { conditionFailed } from '../shared/dynamo.ts';
import { isMembershipLive, requireLiveAccount } from './access.ts';
import { db, type Membership, type Organization, type User } from './entities.ts';
import { slugify } from './slug.ts';
import { startingPlanWrites } from '../billing/onboarding.ts';
import { put, remove, transactGet, transactWrite, update } from '../shared/transactions.ts';

export interface NewUser {
  userId: string;
  email: string;
  emailVerified: boolean;
  fullName?: string;
  socialProvider?: 'google' | 'facebook' | 'apple';
  socialProviderId?: string;
}

/** The personal organization's id derives from the user's, so a retried sign-up writes the same rows. */
export const personalOrgId = (userId: string) =>
  `org_${createHash('sha256').update(`personal:${userId}`).digest('hex').slice(0, 26)}`;

/**
 * Creates the User, the personal (SOLO) organization, its Owner membership, and the Free
 * subscription with its first credits, in one transaction. Calling it again for the same user (a retried trigger) changes nothing.
 */
export async function provisionUser(input: NewUser): Promise<{ user: User; created: boolean }> {
  const orgId = personalOrgId(input.userId);
  const base = slugify(input.email.split('@')[0] ?? 'user');
  const candidates = [`${base}-${input.userId.slice(0, 8)}`, `${base}-${input.userId.replace(/-/g, '').slice(0, 20)}`];
  const now = new Date().toISOString();
  const startingPlan = await startingPlanWrites(orgId, now);

  for (const slug of candidates) {
    const result = await transactWrite([
      put(
        db.user.create({
          userId: input.userId,
          email: input.email.toLowerCase(),
          fullName: input.fullName,
          isEmailVerified: input.emailVerified,
          socialProvider: input.socialProvider,
          socialProviderId: input.socialProviderId,
          defaultOrgId: orgId,
        }),
      ),
      put(
        db.organization.create({
          orgId,
          name: input.fullName ? `${input.fullName}` : input.email.split('@')[0]!,
          slug,
          orgType: 'SOLO',
          ownerId: input.userId,
          ownerCount: 1,
          createdBy: input.userId,
        }),
      ),
      put(
        db.membership.create({
          orgId,
          userId: input.userId,
          email: input.email.toLowerCase(),
          fullName: input.fullName,
          role: 'owner',
          assignedBy: input.userId,
          assignedAt: now,
        }),
      ),
      put(db.unique.create({ kind: 'slug', value: slug, ownerId: orgId })),
      ...startingPlan,
    ]);
    if (!result.canceled) return { user: (await getUser(input.userId))!, created: true };
    const existing = await getUser(input.userId);
    if (existing) return { user: existing, created: false };
    // Only the slug collided (someone took it for a team): try the longer, certainly-unused one.
  }
  throw new ConflictError('Could not reserve a slug for the personal organization');
}

export async function getUser(userId: string): Promise<User | null> {
  const { data } = await db.user.get({ userId }).go({ consistent: true });
  return data;
}

/** The caller's profile, refused (404) when it is missing or the account was deleted. */
export const requireUser = requireLiveAccount;

/**
 * The caller's profile with the default organization they act in now: the one they chose while it
 * still exists and they are still a live member of it, else their personal organization (nothing
 * resets a default when its organization is left or deleted; the gateway falls back the same way).
 */
export async function getProfile(userId: string): Promise<User> {
  const user = await requireUser(userId);
  const personal = personalOrgId(userId);
  if (!user.defaultOrgId || user.defaultOrgId === personal) return { ...user, defaultOrgId: personal };
  const [membership, org] = await transactGet<[Membership, Organization]>([
    { op: db.membership.get({ orgId: user.defaultOrgId, userId }), entity: db.membership },
    { op: db.organization.get({ orgId: user.defaultOrgId }), entity: db.organization },
  ]);
  return isMembershipLive(membership) && org && !org.deletedAt ? user : { ...user, defaultOrgId: personal };
}

export type ProfilePatch = Partial<
  Pick<
    User,
    | 'username'
    | 'fullName'
    | 'firstName'
    | 'lastName'
    | 'avatarUrl'
    | 'languagePreference'
    | 'timezone'
    | 'settings'
    | 'defaultOrgId'
  >
>;

/**
 * The default organization the profile answers once patched, as `getProfile` would show it: a new
 * choice must be an organization the user is a live member of (404), and a kept one that was left
 * or deleted since gives way to the personal organization. One read at most, of the one it names.
 */
async function defaultOrgAfter(userId: string, current: User, patch: ProfilePatch): Promise<string> {
  const personal = personalOrgId(userId);
  const chosen = patch.defaultOrgId ?? current.defaultOrgId;
  if (!chosen || chosen === personal) return personal;
  const [membership, org] = await transactGet<[Membership, Organization]>([
    { op: db.membership.get({ orgId: chosen, userId }), entity: db.membership },
    { op: db.organization.get({ orgId: chosen }), entity: db.organization },
  ]);
  const live = isMembershipLive(membership) && org && !org.deletedAt;
  if (live) return chosen;
  if (patch.defaultOrgId) throw new NotFoundError('You are not a member of that organization');
  return personal;
}

export async function updateProfile(userId: string, patch: ProfilePatch): Promise<User> {
  const current = await requireUser(userId);
  const defaultOrgId = await defaultOrgAfter(userId, current, patch);
  // Its time named here, not stamped by the entity: the profile answered is the one stored, to the millisecond.
  const changes = { ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), updatedAt: clock.nowIso() };
  // Reservations are kept lower-cased: a change of case only keeps the same reservation.
  const reservationChanges = patch.username !== undefined && patch.username.toLowerCase() !== current.username?.toLowerCase();
  // A username change is written only over the username we read, so a concurrent change makes this one fail
  // rather than leave the other's reservation (or ours) orphaned.
  const sameUser = stillAsRead(current, patch.username !== undefined && patch.username !== current.username);
  if (!reservationChanges) {
    try {
      const { data } = await db.user.patch({ userId }).set(changes).where(sameUser).go({ response: 'all_new' });
      return { ...(data as User), defaultOrgId };
    } catch (error) {
      if (conditionFailed(error)) throw usernameRaced();
      throw error;
    }
  }
  const result = await transactWrite([
    put(db.unique.create({ kind: 'username', value: patch.username!.toLowerCase(), ownerId: userId })),
    ...(current.username ? [remove(db.unique.delete({ kind: 'username', value: current.username.toLowerCase() }))] : []),
    update(db.user.patch({ userId }).set(changes).where(sameUser)),
  ]);
  if (result.canceled) {
    if (result.reasons[0] === 'ConditionalCheckFailed')
      throw new ConflictError('That username is taken', [{ path: 'body.username', message: 'Already taken' }]);
    throw usernameRaced();
  }
  return { ...current, ...changes, defaultOrgId } as User;
}

const usernameRaced = () =>
  new ConflictError('Your profile changed while this update was made; read it again and retry', [
    { path: 'body.username', message: 'Changed meanwhile' },
  ]);

/** The user is not deleted and, when `username` changes, still has the username that was read. */
const stillAsRead =
  (current: User, usernameChanges: boolean) =>
  ({ deletedAt, username }: any, { notExists, eq }: any): string => {
    const live = notExists(deletedAt);
    if (!usernameChanges) return live;
    return `${live} AND ${current.username === undefined ? notExists(username) : eq(username, current.username)}`;
  };
