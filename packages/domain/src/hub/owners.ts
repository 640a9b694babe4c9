import type { OrgAccess, UserCaller } from '../identity/access.ts';
import { PLATFORM_AUDIT_SCOPE, auditItem, type AuditAction } from '../identity/audit.ts';
import { db } from '../identity/entities.ts';
import { ForbiddenError } from '../shared/errors.ts';
import { put, type WriteItem } from '../shared/transactions.ts';

/**
 * Who owns a hub item (a key, a rule, a custom model), and who is acting for that owner. An
 * owner is only made from proof: an organization's from the `OrgAccess` that authorization
 * produced, a user's from the signed-in caller, the platform's from a platform admin. Every
 * key the hub reads or writes starts with `owner.key`, so one owner cannot reach another's rows.
 */
export type OwnerKind = 'org' | 'user' | 'platform';

export interface Owner {
  kind: OwnerKind;
  /** The partition: `platform`, `org#<orgId>` or `user#<userId>`. */
  key: string;
  orgId?: string;
  userId?: string;
  actorId: string;
  actorType: 'user' | 'apiClient';
}

export const PLATFORM = 'platform';
export const orgKey = (orgId: string) => `org#${orgId}`;
export const userKey = (userId: string) => `user#${userId}`;

export const orgOwner = (access: OrgAccess): Owner => ({
  kind: 'org',
  key: orgKey(access.orgId),
  orgId: access.orgId,
  actorId: access.actorId,
  actorType: access.actorType,
});

export const userOwner = (caller: UserCaller): Owner => ({
  kind: 'user',
  key: userKey(caller.userId),
  userId: caller.userId,
  actorId: caller.userId,
  actorType: 'user',
});

export function platformOwner(caller: UserCaller): Owner {
  if (!caller.isPlatformAdmin) throw new ForbiddenError('This is for platform administrators');
  return { kind: 'platform', key: PLATFORM, actorId: caller.userId, actorType: 'user' };
}

/**
 * Platform-level changes (catalogue, global rules, platform keys, admin config) are audited
 * under this pseudo-organization id, which no organization can have (`org_…` ids only).
 */

/**
 * The audit row of a change by `owner`: in the organization's log for an organization, in the
 * platform's log for platform changes; a user's own keys are nobody else's business (none).
 */
export function auditWrites(
  owner: Owner,
  action: AuditAction,
  target: { type: string; id: string },
  details?: Record<string, unknown>,
): WriteItem[] {
  if (owner.kind === 'user') return [];
  const orgId = owner.kind === 'org' ? owner.orgId! : PLATFORM_AUDIT_SCOPE;
  return [
    put(
      db.auditEvent.create(
        auditItem({
          orgId,
          actorType: owner.actorType,
          actorId: owner.actorId,
          action,
          targetType: target.type,
          targetId: target.id,
          details,
        }),
      ),
    ),
  ];
}

/** The platform's audit log, newest first: catalogue, global rules, platform keys, admin config. */
