import { defineRoute } from '@platform/http/route';
import { auditPage, auditQuery } from '@platform/domain/identity/schemas/audit';
import { orgParams } from '@platform/domain/identity/schemas/common';

/** Audit events. */
const tag = 'Identity';

export const listAuditEvents = defineRoute({
  id: 'listAuditEvents',
  method: 'GET',
  path: '/v1/orgs/{orgId}/audit-events',
  handler: 'identity/list-audit-events',
  auth: 'principal',
  permission: 'audit:read',
  tag,
  summary: 'Who changed what, newest first',
  schemas: { params: orgParams, query: auditQuery, response: auditPage },
});
export const listPlatformAuditEvents = defineRoute({
  id: 'listPlatformAuditEvents',
  method: 'GET',
  path: '/v1/admin/audit-events',
  handler: 'identity/list-platform-audit-events',
  auth: 'admin',
  tag,
  summary: 'Platform admins: the platform’s own audit log (plan edits), newest first',
  schemas: { query: auditQuery, response: auditPage },
});
