import * as z from 'zod';
import { idOf, uuid } from '../../shared/schemas.ts';
import { PASSWORD_CHARACTER_RULES, PASSWORD_MAX_LENGTH, PASSWORD_POLICY } from '../password-policy.ts';
import { PERMISSIONS } from '../permissions.ts';

/** Ids, path parameters and small fields the identity schemas share. */
export const orgId = idOf('org');
export const userId = uuid;
export const orgParams = z.object({ orgId });
export const memberParams = z.object({ orgId, userId });
export const invitationParams = z.object({ invitationId: idOf('inv') });
export const orgInvitationParams = z.object({ orgId, invitationId: idOf('inv') });
export const roleParams = z.object({ orgId, roleId: idOf('role') });
export const apiClientParams = z.object({ orgId, clientId: idOf('ak') });
export const sessionParams = z.object({ sessionId: idOf('ses') });

/** A new password: the pool's policy, so that the API refuses (and /openapi.json states) what Cognito would refuse. */
export const password = PASSWORD_CHARACTER_RULES.filter((rule) => rule.required).reduce(
  (schema, rule) => schema.regex(rule.pattern, rule.message),
  z.string().min(PASSWORD_POLICY.minLength).max(PASSWORD_MAX_LENGTH),
);
export const code = z
  .string()
  .trim()
  .regex(/^\d{6,8}$/, 'A 6–8 digit code');
export const name = z.string().trim().min(1).max(120);
export const roleName = z
  .string()
  .regex(/^(owner|admin|editor|viewer|role_[0-9a-z]{26})$/, 'A built-in role or a custom role id');
export const permission = z.enum(PERMISSIONS);
