import { listModels } from '../hub/models.ts';
import type { OrgAccess } from '../identity/access.ts';

/** `GET /openai/v1/models`: the active models the organization can call (its custom ones first), in OpenAI's shape. */
export async function openAiModels(access: OrgAccess) {
  const models = await listModels({ status: 'Active' }, access);
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
