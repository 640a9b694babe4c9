import { conditionFailed } from '../shared/dynamo.ts';
import {
  accountGone,
  accountNotDeletedCheck,
  accountRead,
  isAccountDeleted,
  isMembershipLive,
  type OrgAccess,
  type UserCaller,
} from '../identity/access.ts';
import { db, type Membership, type Organization, type User } from '../identity/entities.ts';
import { NotFoundError } from '../shared/errors.ts';
import { put, transactGet, transactWrite } from '../shared/transactions.ts';
import { pageOf } from '../shared/pages.ts';
import type { Model } from './default-models.ts';
import { hubDb, type FavoriteItem, type ModelItem } from './entities.ts';
import { getModel, isBuiltInModel, isCustomModelId, type ModelView } from './models.ts';
import { orgKey, PLATFORM, userKey } from './owners.ts';
import { cachedSnapshot, modelFromItem } from './snapshot.ts';

/**
 * A user's favourite models (seed 000 `is_favorite`, per user as DOMAIN.md says). A custom
 * model can be a favourite of a member of its organization; the list shows each favourite
 * with the model as it is now (`model: null` once it is gone).
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
 * page, the catalogue (from memory when fresh, see snapshot.ts), and one read of the user's
 * profile with the custom models on the page, the user's memberships of their organizations and
 * those organizations. A deleted account is refused (its token outlives it); a custom model of an
 * organization the user has left, or that was deleted, shows as `model: null`.
 */
export async function listFavorites(caller: UserCaller, options: { cursor?: string; limit?: number }) {
  const { data, cursor } = await pageOf(hubDb.favorite.query.byOwner({ owner: userKey(caller.userId) }), {
    cursor: options.cursor,
    limit: Math.min(options.limit ?? FAVORITES_PAGE_MAX, FAVORITES_PAGE_MAX),
    order: 'asc',
  });
  const custom = data.filter((f): f is FavoriteItem & { orgId: string } => Boolean(f.orgId));
  const orgIds = [...new Set(custom.map((f) => f.orgId))];
  const [catalogue, [account, ...rows]] = await Promise.all([
    data.some((f) => !f.orgId) ? cachedSnapshot(PLATFORM).then((s) => s.models) : Promise.resolve([] as Model[]),
    transactGet<FavoriteRead[]>([
      accountRead(caller.userId),
      ...custom.map((f) => ({ op: hubDb.model.get({ owner: orgKey(f.orgId), modelId: f.modelId }), entity: hubDb.model })),
      ...orgIds.map((orgId) => ({ op: db.membership.get({ orgId, userId: caller.userId }), entity: db.membership })),
      ...orgIds.map((orgId) => ({ op: db.organization.get({ orgId }), entity: db.organization })),
    ]),
  ]);
  if (isAccountDeleted(account as User | null)) throw accountGone();
  const reachable = new Set(
    orgIds.filter((_, i) => {
      const org = rows[custom.length + orgIds.length + i] as Organization | null;
      return isMembershipLive(rows[custom.length + i] as Membership | null) && org && !org.deletedAt;
    }),
  );
  const models = new Map<string, Model>(catalogue.map((m) => [m.modelId, m]));
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
      model: model ? { ...model, isBuiltIn: !model.orgId && isBuiltInModel(model.modelId) } : null,
    };
  });
  return { items, nextCursor: cursor };
}
