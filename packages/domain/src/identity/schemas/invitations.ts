import * as z from 'zod';
import { email, page, pageQuery } from '../../shared/schemas.ts';
import { orgId, roleName } from './common.ts';

/** Invitations by email. */
export const createInvitationBody = z.object({ email, role: roleName }).strict();
export const invitationResponse = z.object({
  invitationId: z.string(),
  orgId: z.string(),
  orgName: z.string(),
  email: z.string(),
  role: z.string(),
  status: z.enum(['pending', 'accepted', 'declined', 'revoked', 'expired']),
  invitedBy: z.string(),
  expiresAt: z.string(),
  respondedAt: z.string().optional(),
  createdAt: z.string(),
});
export const invitationQuery = pageQuery.extend({
  status: z.enum(['pending', 'accepted', 'declined', 'revoked', 'expired']).optional(),
});
export const acceptInvitationResponse = z.object({ orgId: z.string(), role: z.string() });
export const invitationsPage = page(invitationResponse);
