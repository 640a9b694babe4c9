import { listModels } from '../hub/models.ts';
import type { OrgAccess } from '../identity/access.ts';

/**
 * `GET /openai/v1/models`: every model the organization can call (its custom ones first), in
 * OpenAI's shape. Deprecated models can still be called, so they are offered; only retired
 * ones (Inactive, or whose provider is gone or inactive) are left out, as `listModels` does
 * without a status filter.
 */
export async function openAiModels(access: OrgAccess) {
  const models = await listModels({}, access);
  return {
    object: 'list' as const,
    data: models.map((m) => ({
      id: m.modelId,
      object: 'model' as const,
      created: m.createdAt ? Math.floor(Date.parse(m.createdAt) / 1000) : 0,
      owned_by: m.orgId ?? m.providerSlug,
    })),
  };
}
