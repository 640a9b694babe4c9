import { newId } from '../shared/ids.ts';
import { pageOf } from '../shared/pages.ts';
import { db, type AuditEvent } from './entities.ts';
import type { OrgAccess } from './access.ts';

export type AuditAction =
  | 'org.created'
  | 'org.updated'
  | 'org.deleted'
  | 'member.role-changed'
  | 'member.updated'
  | 'member.removed'
  | 'member.left'
  | 'org.ownership-transferred'
  | 'invitation.created'
  | 'invitation.revoked'
  | 'invitation.accepted'
  | 'invitation.declined'
  | 'role.created'
  | 'role.updated'
  | 'role.deleted'
  | 'api-client.created'
  | 'api-client.revoked'
  | 'credits.adjusted'
  | 'limits.changed'
  | 'provider.saved'
  | 'provider.retired'
  | 'model.saved'
  | 'model.deleted'
  | 'provider-credential.created'
  | 'provider-credential.updated'
  | 'provider-credential.deleted'
  | 'provider-credential.tested'
  | 'routing-rule.created'
  | 'routing-rule.updated'
  | 'routing-rule.deleted'
  | 'admin-config.changed'
  | 'payment.recorded'
  | 'plan.updated';

export interface AuditInput {
  orgId: string;
  actorType: AuditEvent['actorType'];
  actorId: string;
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

/** Where platform-wide changes (the plan catalogue) are audited: not an organization, listed by platform admins. */
export const PLATFORM_AUDIT_SCOPE = 'platform';

export const auditBy = (access: OrgAccess) => ({
  orgId: access.orgId,
  actorType: access.actorType,
  actorId: access.actorId,
});

/** The audit row to write in the same transaction as the change it records. */
export function auditItem(input: AuditInput) {
  const at = new Date().toISOString();
  return { ...input, eventId: newId('evt'), at };
}

export async function listAuditEvents(access: OrgAccess, options: { cursor?: string; limit?: number; action?: string }) {
  const query = db.auditEvent.query.byOrg({ orgId: access.orgId });
  const filtered = options.action ? query.where(({ action }, { eq }) => eq(action, options.action!)) : query;
  const { data, cursor } = await pageOf(filtered, { cursor: options.cursor, limit: options.limit ?? 50, order: 'desc' });
  return { items: data, nextCursor: cursor };
}

/** The platform's own audit log (plan edits), newest first: platform admins only. */
export async function listPlatformAuditEvents(options: { cursor?: string; limit?: number; action?: string }) {
  const query = db.auditEvent.query.byOrg({ orgId: PLATFORM_AUDIT_SCOPE });
  const filtered = options.action ? query.where(({ action }, { eq }) => eq(action, options.action!)) : query;
  const { data, cursor } = await pageOf(filtered, { cursor: options.cursor, limit: options.limit ?? 50, order: 'desc' });
  return { items: data, nextCursor: cursor };
}
