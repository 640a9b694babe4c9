import { consume, limitSubjects } from '../billing/limits.ts';
import { listModels, type ModelView } from '../hub/models.ts';
import type { OrgAccess } from '../identity/access.ts';
import { NotFoundError } from '../shared/errors.ts';
import { matchModel } from './routing.ts';

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
  return { object: 'list' as const, data: (await callableModels(access)).map(openAiShape) };
}

/**
 * `GET /openai/v1/models/{model}` (an OpenAI client's `models.retrieve`): one model of the list
 * above, named as a call names it (`matchModel`, the router's way: its id or an alias in any case,
 * or its provider's model id; the organization's models first) and answered by its own id; any
 * other name (another organization's model, a retired one) is OpenAI's 404 `model_not_found`.
 */
export async function openAiModel(access: OrgAccess, name: string) {
  const models = await callableModels(access);
  const found = matchModel(name, [models.filter((m) => m.orgId), models.filter((m) => !m.orgId)]);
  if (!found)
    throw new NotFoundError(`Unknown model ${name}: list the models you can use at GET /openai/v1/models`, [
      { path: 'model', message: 'Not a model id, alias or provider model id this organization can call' },
    ]);
  return openAiShape(found);
}

/** The models the organization can call, counting `api` for a key (see `openAiModels`). */
async function callableModels(access: OrgAccess): Promise<ModelView[]> {
  const counted = access.caller.kind === 'apiClient' ? consume(access.org, limitSubjects(access), ['api']) : undefined;
  const [models] = await Promise.all([listModels({}, access), counted]);
  return models;
}

const openAiShape = (m: ModelView) => ({
  id: m.modelId,
  object: 'model' as const,
  created: m.createdAt ? Math.floor(Date.parse(m.createdAt) / 1000) : 0,
  owned_by: m.orgId ?? m.providerSlug,
});
