import { conditionFailed } from '../shared/dynamo.ts';
import {
  accountGone,
  accountNotDeletedCheck,
  accountRead,
  isAccountDeleted,
  isMembershipLive,
  permissionsOfRole,
  type OrgAccess,
  type UserCaller,
} from '../identity/access.ts';
import { db, type Membership, type Organization, type User } from '../identity/entities.ts';
import { NotFoundError } from '../shared/errors.ts';
import { put, transactGet, transactWrite } from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';
import type { Model } from './default-models.ts';
import { hubDb, type FavoriteItem, type ModelItem } from './entities.ts';
import { getModel, isCustomModelId, viewModel, type ModelView } from './models.ts';
import { orgKey, PLATFORM, userKey } from './owners.ts';
import { cachedSnapshot, modelFromItem } from './snapshot.ts';

/**
 * A user's favourite models (seed 000 `is_favorite`, per user as DOMAIN.md says). A custom
 * model can be a favourite of a member of its organization; the list shows each favourite
 * with the model as it is now (`model: null` once it is gone or out of the user's reach).
 */
export interface Favorite {
  modelId: string;
  orgId?: string;
  addedAt: string;
  model: ModelView | null;
}

/**
 * Marks a model as a favourite; a custom model needs the access of its organization. Idempotent.
 * Written on the condition that the user's account is not deleted (their token outlives it): in
 * the same request, with no read.
 */
export async function addFavorite(caller: UserCaller, modelId: string, access?: OrgAccess): Promise<Favorite> {
  const model = await getModel(modelId, isCustomModelId(modelId) ? access : undefined);
  const item = { owner: userKey(caller.userId), modelId, orgId: model.orgId, createdAt: new Date().toISOString() };
  const result = await transactWrite([accountNotDeletedCheck(caller.userId), put(hubDb.favorite.put(item))]);
  if (result.canceled) throw accountGone();
  return { modelId, orgId: model.orgId, addedAt: item.createdAt, model };
}

export async function removeFavorite(caller: UserCaller, modelId: string): Promise<void> {
  try {
    await hubDb.favorite.remove({ owner: userKey(caller.userId), modelId }).go({ response: 'none' });
  } catch (error) {
    if (conditionFailed(error)) throw new NotFoundError(`${modelId} is not one of your favourites`);
    throw error;
  }
}

/** What one TransactGet reads at most: DynamoDB's bound on a transaction's items. */
const MAX_TRANSACT_ITEMS = 100;

/**
 * At most this many favourites a page, so that one read checks the account, every custom model on
 * the page, and for each of their organizations the user's membership and whether it was deleted
 * (1 + 3 a favourite, at worst): a page asked for more (`limit` takes 1–100 like every list) is this long.
 */
export const FAVORITES_PAGE_MAX = Math.floor((MAX_TRANSACT_ITEMS - 1) / 3);

type FavoriteRead = ModelItem | Membership | Organization | User;

/**
 * The user's favourites, oldest first, each with its model as it is now: one query for the
 * page, the catalogue with its providers (from memory when fresh, see snapshot.ts), and one read
 * of the user's profile with the custom models on the page, the user's memberships of their
 * organizations and those organizations. A deleted account is refused (its token outlives it); a
 * custom model shows as `model: null` when it was deleted, or when the user may no longer read
 * it: they left its organization, the organization was deleted, or their role there no longer
 * grants `models:read` (a demotion, a custom role changed), as the model's own routes refuse them.
 */
export async function listFavorites(caller: UserCaller, options: { cursor?: string; limit?: number }) {
  const { data, cursor } = await pageOf(hubDb.favorite.query.byOwner({ owner: userKey(caller.userId) }), {
    cursor: options.cursor,
    limit: Math.min(options.limit ?? FAVORITES_PAGE_MAX, FAVORITES_PAGE_MAX),
    order: 'asc',
  });
  const custom = data.filter((f): f is FavoriteItem & { orgId: string } => Boolean(f.orgId));
  const orgIds = [...new Set(custom.map((f) => f.orgId))];
  const [platform, [account, ...rows]] = await Promise.all([
    // The catalogue's models, and its providers for every model's status (`viewModel`).
    data.length ? cachedSnapshot(PLATFORM) : Promise.resolve(undefined),
    transactGet<FavoriteRead[]>([
      accountRead(caller.userId),
      ...custom.map((f) => ({ op: hubDb.model.get({ owner: orgKey(f.orgId), modelId: f.modelId }), entity: hubDb.model })),
      ...orgIds.map((orgId) => ({ op: db.membership.get({ orgId, userId: caller.userId }), entity: db.membership })),
      ...orgIds.map((orgId) => ({ op: db.organization.get({ orgId }), entity: db.organization })),
    ]),
  ]);
  if (isAccountDeleted(account as User | null)) throw accountGone();
  // What `authorizeOrg` grants for `models:read`: a live membership whose role holds it (a platform admin's, any role).
  const reachable = new Set(
    orgIds.filter((_, i) => {
      const membership = rows[custom.length + i] as Membership | null;
      const org = rows[custom.length + orgIds.length + i] as Organization | null;
      if (!org || org.deletedAt || !isMembershipLive(membership)) return false;
      return caller.isPlatformAdmin || permissionsOfRole(org, membership.role).includes('models:read');
    }),
  );
  const models = new Map<string, Model>((platform?.models ?? []).map((m) => [m.modelId, m]));
  custom.forEach((f, i) => {
    const row = rows[i] as ModelItem | null;
    if (row && reachable.has(f.orgId)) models.set(f.modelId, modelFromItem(row));
  });
  const items: Favorite[] = data.map((f) => {
    const model = models.get(f.modelId);
    return {
      modelId: f.modelId,
      orgId: f.orgId,
      addedAt: f.createdAt,
      model: model && platform ? viewModel(model, platform.providers) : null,
    };
  });
  return { items, nextCursor: cursor };
}
