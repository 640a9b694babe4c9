import * as z from 'zod';
import { orgId } from '../../identity/schemas/common.ts';
import { storableNumber } from '../../shared/json-value.ts';
import { page, pageQuery } from '../../shared/schemas.ts';
import { MODEL_KINDS, TASK_TYPES } from '../enums.ts';
import { alias, capability, catalogueModelId, customModelId, modelId, modelType, providerSlug, status, tag } from './common.ts';

/** Models: the catalogue, organizations' custom models, favourites. */
export const catalogueModelParams = z.object({ modelId: catalogueModelId });
export const modelParams = z.object({ modelId });
export const orgModelParams = z.object({ orgId, modelId: customModelId });

export const modelsQuery = pageQuery.extend({
  type: modelType.optional(),
  provider: providerSlug.optional(),
  capability: capability.optional(),
  kind: z.enum(MODEL_KINDS).optional(),
  tag: tag.optional(),
  status: status.optional().describe('Without it, Inactive models are left out'),
  orgId: orgId.optional().describe('Include this organization’s custom models (you must be a member)'),
});
export const modelOrgQuery = z.object({ orgId: orgId.optional().describe('The organization of a custom model') });

const micros = z.number().int().min(0).max(1e12);
export const pricing = z
  .object({
    inputPerMTokMicros: micros.describe('Micro-USD per million input tokens'),
    outputPerMTokMicros: micros.describe('Micro-USD per million output tokens'),
    perImageMicros: micros.optional().describe('Micro-USD per generated image'),
  })
  .strict();

const defaults = z
  .object({
    temperature: storableNumber().min(0).max(2).optional(),
    topP: storableNumber().min(0).max(1).optional(),
    systemPrompt: z.string().max(20_000).optional(),
  })
  .strict();

const fields = {
  providerSlug,
  providerModelId: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[^\s#]+$/, 'The provider’s own model id, without spaces'),
  name: z.string().trim().min(1).max(120),
  description: z.string().max(2000).optional(),
  version: z.string().trim().max(40).optional(),
  type: modelType,
  taskType: z.enum(TASK_TYPES).optional(),
  capabilities: z.array(capability).max(20),
  contextWindow: z.number().int().min(1).max(10_000_000).optional(),
  maxTokens: z.number().int().min(1).max(1_000_000).optional(),
  defaults: defaults.optional(),
  pricing,
  status,
  tags: z.array(tag).max(20),
  aliases: z.array(alias).max(10),
};

type Fields = typeof fields;
const optional = <F extends Record<string, z.ZodType>>(f: F) =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.optional()])) as { [K in keyof F]: z.ZodOptional<F[K]> };

/** The capabilities a model of a type has when none are given. */
const capabilitiesByType = (type: z.output<Fields['type']>) =>
  type === 'IMAGE' ? ['images' as const] : ['chat' as const, 'stream' as const];

const withDefaults = <S extends z.ZodObject>(schema: S) =>
  schema.transform((m) => {
    const model = m as { type: z.output<Fields['type']>; capabilities?: string[] };
    return { ...m, capabilities: model.capabilities ?? capabilitiesByType(model.type) };
  });

const creatable = {
  ...fields,
  capabilities: fields.capabilities.optional().describe('Defaults by type: chat and stream, or images'),
  status: status.default('Active'),
  tags: fields.tags.default([]),
  aliases: fields.aliases.default([]),
};

export const saveModelBody = withDefaults(
  z.object({ ...creatable, kind: z.enum(['external', 'reference']).default('external') }).strict(),
);
export const customModelBody = withDefaults(z.object(creatable).strict());
export const patchModelBody = z
  .object({ ...optional(fields), kind: z.enum(['external', 'reference']).optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');
export const patchCustomModelBody = z
  .object(optional(fields))
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');

export const modelResponse = z.object({
  modelId: z.string(),
  kind: z.enum(MODEL_KINDS),
  orgId: z.string().optional().describe('The organization of a custom model'),
  providerSlug: z.string(),
  providerModelId: z.string(),
  name: z.string(),
  description: z.string().optional(),
  version: z.string().optional(),
  type: modelType,
  taskType: z.enum(TASK_TYPES).optional(),
  capabilities: z.array(z.string()),
  contextWindow: z.number().optional(),
  maxTokens: z.number().optional(),
  defaults: z
    .object({ temperature: z.number().optional(), topP: z.number().optional(), systemPrompt: z.string().optional() })
    .optional(),
  pricing: z.object({ inputPerMTokMicros: z.number(), outputPerMTokMicros: z.number(), perImageMicros: z.number().optional() }),
  status,
  tags: z.array(z.string()),
  aliases: z.array(z.string()),
  isBuiltIn: z.boolean(),
  createdBy: z.string().optional(),
  updatedBy: z.string().optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
});
/** `GET /v1/models`: a page, like every list. */
export const modelsList = page(modelResponse);
export const modelsPage = page(modelResponse);
export const customModelsQuery = pageQuery;

export const favoriteResponse = z.object({
  modelId: z.string(),
  orgId: z.string().optional(),
  addedAt: z.string(),
  model: modelResponse.nullable().describe('The model as it is now; null once it is gone or out of your reach'),
});
export const favoritesPage = page(favoriteResponse);
/** `limit` 1–100 like every list; a page holds at most `FAVORITES_PAGE_MAX` (favorites.ts). */
export const favoritesQuery = pageQuery;
