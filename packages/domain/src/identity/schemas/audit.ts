import * as z from 'zod';
import { page, pageQuery } from '../../shared/schemas.ts';
import { orgId } from './common.ts';

/** Audit events. */
export const auditEventResponse = z.object({
  eventId: z.string(),
  orgId: z.string(),
  action: z.string(),
  actorType: z.enum(['user', 'apiClient', 'system']),
  actorId: z.string(),
  targetType: z.string().optional(),
  targetId: z.string().optional(),
  details: z.unknown().optional(),
  at: z.string(),
});
export const auditQuery = pageQuery.extend({ action: z.string().max(64).optional() });
export const auditPage = page(auditEventResponse);
