import {
  accountGone,
  authorizeOrg,
  isAccountDeleted,
  isMembershipLive,
  type Caller,
  type OrgAccess,
} from '../identity/access.ts';
import { db } from '../identity/entities.ts';
import { personalOrgId } from '../identity/users.ts';
import { NotFoundError, ValidationError } from '../shared/errors.ts';
import { idOf } from '../shared/schemas.ts';

/**
 * Which organization a gateway call acts for, and proof the caller may use the gateway there
 * (`gateway:invoke`). An API key acts for its own organization; a user names one with the
 * `OpenAI-Organization` header (what OpenAI's clients send for `organization=`), or gets their
 * default organization.
 *
 * The answer is remembered per caller and organization for ACCESS_CACHE_MS, so a busy caller
 * costs no authorization read per call: a membership removed or a role lowered reaches the
 * gateway within that time (the rest of the API sees it at once).
 */
export const ACCESS_CACHE_MS = 10_000;
const MAX_ENTRIES = 10_000;
const cache = new Map<string, { access: Promise<OrgAccess>; until: number }>();

const orgIdSchema = idOf('org');

type Principal = Exclude<Caller, { kind: 'anonymous' }>;
type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/**
 * A user's access to their default organization. The profile read refuses a deleted account. The
 * default can name an organization the user has since left (or that was deleted: nothing resets the
 * defaults of its members); their personal organization then stands in, at the cost of a second
 * authorization on that path only.
 */
async function defaultAccess(user: UserPrincipal): Promise<OrgAccess> {
  const { data: profile } = await db.user.get({ userId: user.userId }).go();
  if (!profile || isAccountDeleted(profile)) throw accountGone();
  const personal = personalOrgId(user.userId);
  const chosen = profile.defaultOrgId ?? personal;
  if (chosen !== personal) {
    try {
      const access = await authorizeOrg(user, chosen, 'gateway:invoke');
      // A platform admin is let into any organization; their default is still only one they belong to.
      if (isMembershipLive(access.membership)) return access;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return authorizeOrg(user, personal, 'gateway:invoke');
}

export async function gatewayAccess(principal: Principal, requestedOrgId?: string): Promise<OrgAccess> {
  if (requestedOrgId !== undefined && !orgIdSchema.safeParse(requestedOrgId).success)
    throw new ValidationError('OpenAI-Organization is not an organization id', [
      { path: 'headers.openai-organization', message: 'An organization id (org_…)' },
    ]);
  const who = principal.kind === 'apiClient' ? `client:${principal.clientId}` : `user:${principal.userId}`;
  const key = `${who}|${requestedOrgId ?? ''}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.until > now) return hit.access;
  const access = (async () => {
    if (principal.kind === 'user')
      return requestedOrgId ? authorizeOrg(principal, requestedOrgId, 'gateway:invoke') : defaultAccess(principal);
    // A key acts for its organization only: naming another is a request for something that is not there.
    if (requestedOrgId && requestedOrgId !== principal.orgId) throw new NotFoundError('Organization not found');
    return authorizeOrg(principal, principal.orgId, 'gateway:invoke');
  })();
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(key, { access, until: now + ACCESS_CACHE_MS });
  // Refusals are not remembered: the next call asks again.
  access.catch(() => cache.delete(key));
  return access;
}
