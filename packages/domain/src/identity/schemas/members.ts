import * as z from 'zod';
import { email, page, utcDateTime } from '../../shared/schemas.ts';
import { orgId, userId, roleName } from './common.ts';

/** Members of an organization. */
export const memberResponse = z.object({
  orgId: z.string(),
  userId: z.string(),
  email: z.string(),
  fullName: z.string().optional(),
  role: z.string(),
  assignedBy: z.string(),
  assignedAt: z.string(),
  expiresAt: z.string().optional(),
  isActive: z.boolean().optional(),
});
export const updateMemberBody = z
  .object({ role: roleName.optional(), expiresAt: utcDateTime.nullable().optional(), isActive: z.boolean().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');
export const transferOwnershipBody = z.object({ userId }).strict();
export const membersPage = page(memberResponse);
