import * as z from 'zod';
import { orgId } from '../../identity/schemas/common.ts';
import { modelId, modelReference, modelType, planId, ruleId, tag } from './common.ts';

/** Routing rules, per organization or global. */
export const ruleParams = z.object({ ruleId });
export const orgRuleParams = z.object({ orgId, ruleId });

const unique = <T>(items: T[], key: (t: T) => string) => new Set(items.map(key)).size === items.length;

export const ruleConditions = z
  .object({
    models: z
      .array(modelReference)
      .min(1)
      .max(50)
      .optional()
      .describe('The requested model (id, provider model id or alias) is one of these'),
    planIds: z.array(planId).min(1).max(10).optional().describe('The organization’s plan is one of these'),
    tags: z.array(tag).min(1).max(20).optional().describe('The call carries every one of these tags'),
    maxCostPerMTokMicros: z
      .number()
      .int()
      .min(0)
      .max(1e12)
      .optional()
      .describe('Only models whose larger per-million-token price (input or output) is at most this, in micro-USD'),
  })
  .strict();

const target = z
  .object({
    modelId,
    weight: z.number().int().min(1).max(1000).default(1),
    notes: z.string().max(500).optional(),
    tags: z.array(tag).max(20).optional(),
  })
  .strict();

const targets = z
  .array(target)
  .min(1)
  .max(10)
  .refine((t) => unique(t, (x) => x.modelId), 'Each model once');
const fallbacks = z
  .array(modelId)
  .max(10)
  .refine((f) => unique(f, (x) => x), 'Each model once');

const fields = {
  name: z.string().trim().min(1).max(120),
  description: z.string().max(1000).optional(),
  priority: z.number().int().min(1).max(100).describe('1 is tried first'),
  modelType,
  conditions: ruleConditions,
  targets,
  fallbacks,
  isActive: z.boolean(),
};

export const createRuleBody = z
  .object({
    ...fields,
    conditions: ruleConditions.default({}),
    fallbacks: fallbacks.default([]),
    isActive: z.boolean().default(true),
  })
  .strict();

export const patchRuleBody = z
  .object(
    Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof fields]: z.ZodOptional<(typeof fields)[K]>;
    },
  )
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field to change');

export const ruleResponse = z.object({
  ruleId: z.string(),
  scope: z.enum(['org', 'global']),
  orgId: z.string().optional(),
  name: z.string(),
  description: z.string().optional(),
  priority: z.number(),
  modelType,
  conditions: z.object({
    models: z.array(z.string()).optional(),
    planIds: z.array(z.string()).optional(),
    tags: z.array(z.string()).optional(),
    maxCostPerMTokMicros: z.number().optional(),
  }),
  targets: z.array(
    z.object({ modelId: z.string(), weight: z.number(), notes: z.string().optional(), tags: z.array(z.string()).optional() }),
  ),
  fallbacks: z.array(z.string()),
  isActive: z.boolean(),
  createdBy: z.string(),
  updatedBy: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const rulesList = z.object({ items: z.array(ruleResponse) });
