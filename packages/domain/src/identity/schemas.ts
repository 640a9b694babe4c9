import * as z from 'zod';
import { email, idOf, isoDateTime, page, pageQuery, uuid } from '../shared/schemas.ts';
import { PERMISSIONS } from './permissions.ts';
import { SLUG_PATTERN } from './slug.ts';

// ── ids and path parameters ────────────────────────────────────────────────
export const orgId = idOf('org');
export const userId = uuid;
export const orgParams = z.object({ orgId });
export const memberParams = z.object({ orgId, userId });
export const invitationParams = z.object({ invitationId: idOf('inv') });
export const orgInvitationParams = z.object({ orgId, invitationId: idOf('inv') });
export const roleParams = z.object({ orgId, roleId: idOf('role') });
export const apiClientParams = z.object({ orgId, clientId: idOf('ak') });
export const sessionParams = z.object({ sessionId: idOf('ses') });

const password = z.string().min(8).max(256);
const code = z
  .string()
  .trim()
  .regex(/^\d{6,8}$/, 'A 6–8 digit code');
const name = z.string().trim().min(1).max(120);
const roleName = z.string().regex(/^(owner|admin|editor|viewer|role_[0-9a-z]{26})$/, 'A built-in role or a custom role id');
const permission = z.enum(PERMISSIONS);

// ── auth ───────────────────────────────────────────────────────────────────
export const signUpBody = z.object({ email, password, fullName: name.optional() });
export const signUpResponse = z.object({ userId: z.string(), confirmed: z.boolean(), delivery: z.literal('email') });
export const confirmSignUpBody = z.object({ email, code });
export const emailBody = z.object({ email });
export const signInBody = z.object({ email, password: z.string().min(1).max(256) });
export const mfaChallengeBody = z.object({ email, session: z.string().min(20).max(4096), code });
export const refreshBody = z.object({ refreshToken: z.string().min(20).max(8192) });
export const confirmForgotPasswordBody = z.object({ email, code, password });
export const mfaCodeBody = z.object({ code });

export const tokensResponse = z.object({
  accessToken: z.string(),
  idToken: z.string(),
  refreshToken: z.string().optional(),
  expiresIn: z.number(),
  tokenType: z.literal('Bearer'),
  sessionId: z.string().optional(),
});
export const signInResponse = z.union([
  tokensResponse,
  z.object({ challenge: z.literal('SOFTWARE_TOKEN_MFA'), session: z.string() }),
]);
export const mfaSetupResponse = z.object({ secretCode: z.string(), otpauthUri: z.string() });
export const mfaStatusResponse = z.object({ mfaEnabled: z.boolean() });
export const acceptedResponse = z.object({ status: z.literal('accepted') });

// ── users ──────────────────────────────────────────────────────────────────
export const userResponse = z.object({
  userId: z.string(),
  email: z.string(),
  username: z.string().optional(),
  fullName: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  avatarUrl: z.string().optional(),
  languagePreference: z.string().optional(),
  timezone: z.string().optional(),
  socialProvider: z.enum(['google', 'facebook', 'apple']).optional(),
  isEmailVerified: z.boolean().optional(),
  mfaEnabled: z.boolean().optional(),
  isActive: z.boolean().optional(),
  lastLoginAt: z.string().optional(),
  lastLoginIp: z.string().optional(),
  defaultOrgId: z.string().optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

let timezones: Set<string> | undefined;
/** Built on first use: listing every zone costs milliseconds no cold start should pay. */
const isTimeZone = (tz: string) => (timezones ??= new Set(Intl.supportedValuesOf('timeZone').concat('UTC'))).has(tz);
export const updateMeBody = z
  .object({
    username: z
      .string()
      .regex(/^[a-z0-9_][a-z0-9_.-]{2,31}$/i, '3–32 letters, digits, _ . -')
      .optional(),
    fullName: name.optional(),
    firstName: z.string().trim().min(1).max(60).optional(),
    lastName: z.string().trim().min(1).max(60).optional(),
    avatarUrl: z
      .url({ protocol: /^https$/ })
      .max(2048)
      .optional(),
    languagePreference: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'A language tag like en-US')
      .optional(),
    timezone: z.string().max(64).refine(isTimeZone, 'An IANA time zone like Europe/Paris').optional(),
    settings: z
      .record(z.string().max(64), z.unknown())
      .refine((s) => JSON.stringify(s).length <= 16_384, 'At most 16 KiB')
      .optional(),
    defaultOrgId: orgId.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');

export const sessionResponse = z.object({
  sessionId: z.string(),
  deviceInfo: z.string().optional(),
  ipAddress: z.string().optional(),
  userAgent: z.string().optional(),
  lastActivity: z.string(),
  expiresAt: z.string(),
  createdAt: z.string(),
  current: z.boolean(),
});

// ── organizations ──────────────────────────────────────────────────────────
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

// ── members, roles, invitations ────────────────────────────────────────────
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
  .object({ role: roleName.optional(), expiresAt: isoDateTime.nullable().optional(), isActive: z.boolean().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');
export const transferOwnershipBody = z.object({ userId }).strict();

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

// ── API clients ────────────────────────────────────────────────────────────
export const createApiClientBody = z
  .object({
    name,
    scopes: z
      .array(permission)
      .min(1)
      .max(PERMISSIONS.length)
      .transform((s) => [...new Set(s)]),
    expiresAt: isoDateTime.optional(),
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
  lastUsedAt: z.string().optional(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  createdAt: z.string(),
});
export const createdApiClientResponse = apiClientResponse.extend({
  key: z.string().describe('Shown once: store it now, it cannot be read again'),
});

// ── audit ──────────────────────────────────────────────────────────────────
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

export { page, pageQuery };
export const orgsPage = page(orgResponse);
export const membersPage = page(memberResponse);
export const invitationsPage = page(invitationResponse);
export const apiClientsPage = page(apiClientResponse);
export const sessionsPage = page(sessionResponse);
export const auditPage = page(auditEventResponse);
export const rolesList = z.object({ items: z.array(roleResponse) });
