import { ConflictError } from '../shared/errors.ts';
import { transactWrite, update, put } from '../shared/transactions.ts';
import { auditBy, auditItem } from '../identity/audit.ts';
import type { OrgAccess } from '../identity/access.ts';
import { db } from '../identity/entities.ts';
import { withOverride, type LimitOverride } from './limits.ts';

/**
 * Overrides per organization, at most: they live in the organization item (400 KB at most, with
 * its custom roles), and `GET …/limits` reads a counter for each of their windows.
 */
export const MAX_LIMIT_OVERRIDES = 50;

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
  const outcome = await transactWrite([
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
  if (outcome.canceled) throw new ConflictError('The organization changed meanwhile; retry');
  return { ...access.org, limitOverrides: overrides };
}
