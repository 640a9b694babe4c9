import * as z from 'zod';
import { page, utcDateTime } from '../../shared/schemas.ts';
import { orgId, name, permission } from './common.ts';
import { PERMISSIONS } from '../permissions.ts';

/** API clients (machine keys). */
export const createApiClientBody = z
  .object({
    name,
    scopes: z
      .array(permission)
      .min(1)
      .max(PERMISSIONS.length)
      .transform((s) => [...new Set(s)]),
    expiresAt: utcDateTime.optional(),
  })
  .strict();
export const apiClientResponse = z.object({
  clientId: z.string(),
  orgId: z.string(),
  name: z.string(),
  keyPreview: z.string(),
  scopes: z.array(z.string()),
  isActive: z.boolean().optional(),
  createdBy: z.string(),
  memberId: z
    .string()
    .optional()
    .describe('The member the key acts for: it never acts beyond their current permissions, and is revoked when they leave'),
  lastUsedAt: z.string().optional(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional().describe('Who revoked it: a user, an API client, or `system` when its member left'),
  createdAt: z.string(),
});
export const createdApiClientResponse = apiClientResponse.extend({
  key: z.string().describe('Shown once: store it now, it cannot be read again'),
});
export const listedApiClient = apiClientResponse.extend({
  effectiveScopes: z
    .array(z.string())
    .optional()
    .describe(
      'What the key may do now: its scopes within its member’s current role (none once it no longer authenticates); absent when its member could not be read this time',
    ),
});
export const apiClientsPage = page(listedApiClient);
