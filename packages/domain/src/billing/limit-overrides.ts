import { ConflictError, UnprocessableError } from '../shared/errors.ts';
import { clock } from '../shared/clock.ts';
import { conditionCheck, transactWrite, update, put, type WriteItem } from '../shared/transactions.ts';
import { auditBy, auditItem } from '../identity/audit.ts';
import type { OrgAccess } from '../identity/access.ts';
import { db } from '../identity/entities.ts';
import { LIMIT_WINDOWS } from './entities.ts';
import { withOverride, type LimitOverride } from './limits.ts';

/**
 * Overrides per organization, at most: they live in the organization item (400 KB at most, with
 * its custom roles), and `GET …/limits` reads a counter for each of their windows.
 */
export const MAX_LIMIT_OVERRIDES = 50;

/**
 * A limit is set for one of the organization's own: a member (`user#<id>`) or an API client
 * (`client#<id>`) of it, checked in the override's transaction. Else it would count nobody, or,
 * for another organization's client, show that client's use in this organization's limits. A
 * member is one whose membership is live, as `isMembershipLive` says: a suspended member, or one
 * whose account was deleted, keeps an inactive row, and calls nothing here meanwhile. A client
 * is one that still authenticates: not revoked, not expired. Removing one needs no check (a
 * member who left, or a revoked key, may still have one).
 */
function subjectCheck(orgId: string, subject: string): WriteItem | undefined {
  const [kind, id] = [subject.slice(0, subject.indexOf('#')), subject.slice(subject.indexOf('#') + 1)];
  const now = clock.nowIso();
  if (kind === 'user')
    return conditionCheck(
      db.membership,
      { orgId, userId: id },
      ({ userId, isActive, expiresAt }, { eq, notExists, gt }) =>
        `${eq(userId, id)} AND (${notExists(isActive)} OR ${eq(isActive, true)}) AND (${notExists(expiresAt)} OR ${gt(expiresAt, now)})`,
    );
  if (kind === 'client')
    return conditionCheck(
      db.apiClient,
      { clientId: id },
      ({ orgId: owner, isActive, revokedAt, expiresAt }, { eq, notExists, gt }) =>
        `${eq(owner, orgId)} AND (${notExists(isActive)} OR ${eq(isActive, true)}) AND ${notExists(revokedAt)} AND (${notExists(expiresAt)} OR ${gt(expiresAt, now)})`,
    );
  return undefined;
}

/**
 * A platform admin sets a limit for an organization, one of its users or API clients (no
 * window given: the override is removed and the plan applies again). Overrides live in the
 * organization item, which authorization reads anyway: enforcing them costs no extra read.
 */
export async function setLimitOverride(access: OrgAccess, input: LimitOverride) {
  const overrides = withOverride(access.org, input);
  if (overrides.length > MAX_LIMIT_OVERRIDES && overrides.length > (access.org.limitOverrides?.length ?? 0))
    throw new ConflictError(
      `An organization has at most ${MAX_LIMIT_OVERRIDES} limit overrides; remove one first (PUT it with no window)`,
    );
  const version = access.org.version ?? 1;
  const setting = LIMIT_WINDOWS.some((window) => input[window] !== undefined && input[window] !== null);
  // Removing an override there is none of changes nothing: nothing is written, nor audited.
  if (!setting && overrides.length === (access.org.limitOverrides?.length ?? 0)) return access.org;
  const subject = setting ? subjectCheck(access.orgId, input.subject) : undefined;
  const outcome = await transactWrite([
    ...(subject ? [subject] : []),
    update(
      db.organization
        .patch({ orgId: access.orgId })
        .set({ limitOverrides: overrides })
        .add({ version: 1 })
        .where(({ version: v }, { eq }) => eq(v, version)),
    ),
    put(
      db.auditEvent.create(
        auditItem({
          ...auditBy(access),
          action: 'limits.changed',
          targetType: 'limit',
          targetId: `${input.subject}/${input.resource}`,
          details: { ...input },
        }),
      ),
    ),
  ]);
  if (outcome.canceled && subject && outcome.reasons[0] === 'ConditionalCheckFailed')
    throw new UnprocessableError(
      `${input.subject} is not ${input.subject.startsWith('user#') ? 'a member' : 'a live API client'} of this organization`,
    );
  if (outcome.canceled) throw new ConflictError('The organization changed meanwhile; retry');
  return { ...access.org, limitOverrides: overrides };
}
