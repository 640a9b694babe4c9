import * as z from 'zod';
import { email, page } from '../../shared/schemas.ts';
import { storedJsonObject } from '../../shared/json-value.ts';
import { orgId, userId, name } from './common.ts';

/** Profiles and signed-in devices. */
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
    settings: storedJsonObject(16_384, 'At most 16 KiB', z.string().max(64)).optional(),
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
export const sessionsPage = page(sessionResponse);
