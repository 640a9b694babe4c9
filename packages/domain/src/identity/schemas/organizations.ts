import * as z from 'zod';
import { page } from '../../shared/schemas.ts';
import { orgId, name } from './common.ts';
import { SLUG_PATTERN } from '../slug.ts';

/** Organizations. */
const slug = z.string().trim().toLowerCase().min(3).max(63).regex(SLUG_PATTERN, 'Lower-case letters, digits and dashes');
export const createOrgBody = z
  .object({
    name,
    slug,
    orgType: z.enum(['TEAM', 'ENTERPRISE']).default('TEAM'),
    apiKeyStrategy: z.enum(['PLATFORM', 'BYOK', 'HYBRID']).optional(),
  })
  .strict();
export const updateOrgBody = z
  .object({
    name: name.optional(),
    slug: slug.optional(),
    orgType: z.enum(['TEAM', 'ENTERPRISE']).optional(),
    apiKeyStrategy: z.enum(['PLATFORM', 'BYOK', 'HYBRID']).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');

export const orgResponse = z.object({
  orgId: z.string(),
  name: z.string(),
  slug: z.string(),
  orgType: z.enum(['SOLO', 'TEAM', 'ENTERPRISE']),
  apiKeyStrategy: z.enum(['PLATFORM', 'BYOK', 'HYBRID']).optional(),
  ownerId: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  role: z.string().optional(),
});
export const orgsPage = page(orgResponse);
