import * as z from 'zod';
import { orgId } from '../../identity/schemas/common.ts';
import { PROVIDER_ERROR_KINDS } from '../../gateway/types.ts';
import { page, pageQuery } from '../../shared/schemas.ts';
import { storedJsonObject } from '../../shared/json-value.ts';
import { baseUrl, credentialId, providerSlug } from './common.ts';

/** Provider credentials (bring your own key). The key goes in, never out. */
export const credentialParams = z.object({ credentialId });
export const orgCredentialParams = z.object({ orgId, credentialId });
export const credentialsQuery = pageQuery.extend({ providerSlug: providerSlug.optional() });

const key = z
  .string()
  .trim()
  .min(8)
  .max(4096)
  .regex(/^[\x21-\x7e]+$/, 'Printable ASCII without spaces')
  .describe('The provider’s API key; stored encrypted, never returned');
const label = z.string().trim().min(1).max(120);
const defaultModel = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^\s#]+$/, 'A provider model id')
  .describe('The provider’s model id used to test the key');
const quota = z.number().int().min(1).max(1e9);
/** At most 4 KB of JSON; the provider's JSON Schema decides the rest. */
const config = storedJsonObject(4096, 'At most 4 KB').describe(
  'Provider settings, validated against the provider’s configSchema',
);

export const createCredentialBody = z
  .object({
    label,
    providerSlug,
    key: key.optional(),
    baseUrl: baseUrl.optional(),
    defaultModel: defaultModel.optional(),
    config: config.optional(),
    isDefault: z.boolean().optional().describe('Defaults to true for the first credential of a provider'),
    isActive: z.boolean().optional(),
    dailyQuota: quota.optional().describe('Provider calls per UTC day through this key'),
    monthlyQuota: quota.optional().describe('Provider calls per calendar month through this key'),
  })
  .strict();

export const patchCredentialBody = z
  .object({
    label: label.optional(),
    key: key.optional().describe('A new key replaces the old one'),
    baseUrl: baseUrl.nullable().optional().describe('null removes it'),
    defaultModel: defaultModel.nullable().optional(),
    config: config.optional(),
    isDefault: z.boolean().optional(),
    isActive: z.boolean().optional(),
    dailyQuota: quota.nullable().optional(),
    monthlyQuota: quota.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');

/** The longest a credential test waits for the provider: well inside the route function's 10 s timeout. */
export const CREDENTIAL_TEST_TIMEOUT_MS = 8_000;

export const testCredentialBody = z
  .object({
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(CREDENTIAL_TEST_TIMEOUT_MS)
      .optional()
      .describe('How long to wait for the provider, in milliseconds (default and at most 8,000)'),
  })
  .strict();

/** The outcome of a test: the route's answer, and the credential's `lastTest`. */
export const credentialTestResponse = z.object({
  ok: z.boolean().describe('Whether the provider accepted the key and answered'),
  responseTimeMs: z.number(),
  testedAt: z.string(),
  model: z.string().describe('The provider’s model id the test called'),
  operation: z.enum(['chat', 'embeddings', 'images']).describe('A one-token chat completion, or one embedding or image'),
  error: z
    .object({
      type: z.enum(PROVIDER_ERROR_KINDS).describe('auth: the key was refused; throttled, server, timeout, network, invalid, …'),
      message: z.string().describe('What the provider said, with the key cut out'),
      status: z.number().optional().describe('The provider’s HTTP status'),
    })
    .optional(),
});

export const credentialResponse = z.object({
  credentialId: z.string(),
  ownerType: z.enum(['org', 'user', 'platform']),
  orgId: z.string().optional(),
  userId: z.string().optional(),
  providerSlug: z.string(),
  label: z.string(),
  hasKey: z.boolean(),
  keyLast4: z.string().optional().describe('The last four characters of the key: all that is ever shown of it'),
  baseUrl: z.string().optional(),
  defaultModel: z.string().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  isDefault: z.boolean(),
  isActive: z.boolean(),
  dailyQuota: z.number().optional(),
  monthlyQuota: z.number().optional(),
  lastUsedAt: z.string().optional(),
  lastTest: credentialTestResponse.optional().describe('The outcome of the last `POST …/test`'),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const credentialsPage = page(credentialResponse);
