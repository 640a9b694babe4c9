import { consume, limitSubjects } from '../billing/limits.ts';
import { listModels } from '../hub/models.ts';
import type { OrgAccess } from '../identity/access.ts';
import { NotFoundError } from '../shared/errors.ts';

/**
 * `GET /openai/v1/models`: every model the organization can call (its custom ones first), in
 * OpenAI's shape. Deprecated models can still be called, so they are offered; only retired
 * ones (Inactive, or whose provider is gone or inactive) are left out, as `listModels` does
 * without a status filter.
 *
 * Every call by an API client consumes `api`, this one too (a model call counts it with its
 * admission): a refusal is the 429 any route answers past a limit. It is counted while the
 * models are read, and a refused call answers nothing of them.
 */
export async function openAiModels(access: OrgAccess) {
  const counted = access.caller.kind === 'apiClient' ? consume(access.org, limitSubjects(access), ['api']) : undefined;
  const [models] = await Promise.all([listModels({}, access), counted]);
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

/**
 * `GET /openai/v1/models/{model}` (an OpenAI client's `models.retrieve`): one model of the list
 * above, by its id; any other name (another organization's model, a retired one) is OpenAI's
 * 404 `model_not_found`.
 */
export async function openAiModel(access: OrgAccess, modelId: string) {
  const found = (await openAiModels(access)).data.find((m) => m.id === modelId);
  if (!found)
    throw new NotFoundError(`Unknown model ${modelId}: list the models you can use at GET /openai/v1/models`, [
      { path: 'model', message: 'Not the id of a model this organization can call' },
    ]);
  return found;
}
