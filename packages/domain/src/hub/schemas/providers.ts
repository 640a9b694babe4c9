import * as z from 'zod';
import { ADAPTER_KINDS } from '../../gateway/types.ts';
import { checkSchema, type JsonSchema } from '../../shared/json-schema.ts';
import { storedJsonObject } from '../../shared/json-value.ts';
import { wholeListQuery } from '../../shared/schemas.ts';
import { baseUrl, capability, providerSlug, queryFlag, status, webUrl } from './common.ts';

/** Providers: the catalogue and platform admins' edits. */
export const providerParams = z.object({ slug: providerSlug });
export const providersQuery = wholeListQuery({ includeInactive: queryFlag.optional() });

/**
 * A JSON Schema of the supported subset (shared/json-schema.ts), checked when saved; at most
 * 4 KiB, so that the catalogue (one item, MAX_CATALOGUE_BYTES at most) holds some fifty providers
 * and an edit's audit row (before and after) stays small.
 */
const configSchema = storedJsonObject(4_096, 'At most 4 KiB of JSON')
  .superRefine((schema, ctx) => {
    for (const error of checkSchema(schema))
      ctx.addIssue({ code: 'custom', message: error.message, path: error.path ? error.path.split('.') : [] });
  })
  .transform((schema) => schema as JsonSchema);

const group = z
  .object({
    name: z.string().trim().min(1).max(60),
    icon: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, 'An icon name like `openai`')
      .optional(),
    color: z
      .string()
      .regex(/^#[0-9A-Fa-f]{6}$/, 'A colour like #10A37F')
      .optional(),
  })
  .strict();

const fields = {
  displayName: z.string().trim().min(1).max(80),
  description: z.string().max(1000).optional(),
  website: webUrl.optional(),
  docsUrl: webUrl.optional(),
  adapter: z.enum(ADAPTER_KINDS),
  requiresApiKey: z.boolean(),
  requiresBaseUrl: z.boolean(),
  supportsStreaming: z.boolean(),
  capabilities: z.array(capability).max(20),
  configSchema,
  defaultBaseUrl: baseUrl.optional(),
  group,
  status,
};

export const saveProviderBody = z
  .object({
    ...fields,
    requiresApiKey: fields.requiresApiKey.default(true),
    requiresBaseUrl: fields.requiresBaseUrl.default(false),
    supportsStreaming: fields.supportsStreaming.default(true),
    capabilities: fields.capabilities.default(['chat']),
    configSchema: z.record(z.string(), z.unknown()).default({ type: 'object' }).pipe(configSchema),
    status: fields.status.default('Active'),
  })
  .strict();

export const patchProviderBody = z
  .object(
    Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof fields]: z.ZodOptional<(typeof fields)[K]>;
    },
  )
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');

export const providerResponse = z.object({
  slug: z.string(),
  displayName: z.string(),
  description: z.string().optional(),
  website: z.string().optional(),
  docsUrl: z.string().optional(),
  adapter: z.enum(ADAPTER_KINDS),
  requiresApiKey: z.boolean(),
  requiresBaseUrl: z.boolean(),
  supportsStreaming: z.boolean(),
  capabilities: z.array(z.string()),
  configSchema: z.record(z.string(), z.unknown()).describe('JSON Schema of a credential’s `config`, enforced on save'),
  defaultBaseUrl: z.string().optional(),
  group: z.object({ name: z.string(), icon: z.string().optional(), color: z.string().optional() }),
  status,
  isBuiltIn: z.boolean().describe('Defined in code: can be deactivated, not removed'),
  updatedAt: z.string().optional(),
  updatedBy: z.string().optional(),
});
export const providersList = z.object({ items: z.array(providerResponse) });
