import * as z from 'zod';
import { name, permission } from './common.ts';
import { PERMISSIONS } from '../permissions.ts';

/** Built-in and custom roles. */
export const roleResponse = z.object({
  roleId: z.string(),
  name: z.string(),
  description: z.string().optional(),
  permissions: z.array(z.string()),
  isSystemRole: z.boolean(),
});
export const createRoleBody = z
  .object({
    name: name.max(60),
    description: z.string().max(500).optional(),
    permissions: z
      .array(permission)
      .min(1)
      .max(PERMISSIONS.length)
      .transform((p) => [...new Set(p)]),
  })
  .strict();
export const updateRoleBody = z
  .object({
    name: name.max(60).optional(),
    description: z.string().max(500).optional(),
    permissions: z
      .array(permission)
      .min(1)
      .max(PERMISSIONS.length)
      .transform((p) => [...new Set(p)])
      .optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');
export const rolesList = z.object({ items: z.array(roleResponse) });
