import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCustomModel, deleteCustomModel, getCustomModel } from '@platform/domain/hub/custom-models';
import { createRule, getRule, listRules, patchRule } from '@platform/domain/hub/routing-rules';
import type { OrgAccess } from '@platform/domain/identity/access';
import { dynamo } from '@platform/domain/shared/dynamo';
import { newOrgId, orgOwnerOf, statusOf, ruleInput } from '../helpers/hub.ts';

/**
 * Routing rules and the custom models they name, against DynamoDB Local: a rule never names a
 * deleted model, whichever of the rule's write and the model's deletion decides on a read made
 * before the other committed. Each interleaving is forced: the other change runs just before
 * the first one's write leaves.
 */
afterEach(() => vi.restoreAllMocks());

async function newOrgWithModel() {
  const orgId = newOrgId();
  const owner = orgOwnerOf(orgId);
  const access = { orgId, actorId: owner.actorId, actorType: 'user' } as OrgAccess;
  const model = await createCustomModel(access, {
    providerSlug: 'bedrock',
    providerModelId: 'amazon.nova-lite-v1:0',
    name: 'Ours',
    type: 'TEXT',
    capabilities: ['chat'],
    pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
    status: 'Active',
    tags: [],
    aliases: [`ours-${randomUUID().slice(0, 6)}`],
  });
  return { owner, access, modelId: model.modelId };
}

/** Runs `meanwhile` just before the next transactional write leaves: that write was decided on reads older than `meanwhile`. */
function beforeNextWrite(meanwhile: () => Promise<unknown>) {
  const client = dynamo();
  const send = client.send.bind(client);
  let ran = false;
  vi.spyOn(client, 'send').mockImplementation((async (command: { constructor: { name: string } }) => {
    if (!ran && command.constructor.name === 'TransactWriteCommand') {
      ran = true;
      await meanwhile();
    }
    return send(command as never);
  }) as never);
}

describe('a rule and the deletion of a custom model it names', () => {
  it('a rule saved on a read of the model, deleted before the rule’s write, is refused (400) and nothing is saved', async () => {
    const { owner, access, modelId } = await newOrgWithModel();
    beforeNextWrite(() => deleteCustomModel(access, modelId));
    await expect(createRule(owner, ruleInput([modelId]))).rejects.toMatchObject({
      status: 400,
      fieldErrors: [{ path: 'targets.0.modelId', message: `No model ${modelId}` }],
    });
    expect(await statusOf(getCustomModel(access, modelId))).toBe(404);
    expect(await listRules(owner)).toEqual([]);
  });

  it('a rule changed to name the model on a read older than its deletion is refused (400) and left as it was', async () => {
    const { owner, access, modelId } = await newOrgWithModel();
    const saved = await createRule(owner, ruleInput(['nova-micro']));
    beforeNextWrite(() => deleteCustomModel(access, modelId));
    expect(await statusOf(patchRule(owner, saved.ruleId, { fallbacks: [modelId] }))).toBe(400);
    expect(await statusOf(getCustomModel(access, modelId))).toBe(404);
    expect((await getRule(owner, saved.ruleId)).fallbacks).toEqual([]);
  });

  it('a deletion decided before a rule named the model is refused (409) and deletes nothing', async () => {
    const { owner, access, modelId } = await newOrgWithModel();
    let ruleId = '';
    beforeNextWrite(async () => (ruleId = (await createRule(owner, ruleInput([modelId]))).ruleId));
    await expect(deleteCustomModel(access, modelId)).rejects.toMatchObject({ status: 409 });
    expect((await getCustomModel(access, modelId)).modelId).toBe(modelId);
    expect((await getRule(owner, ruleId)).targets[0]!.modelId).toBe(modelId);
  });

  it('a deletion decided before a rule changed to name the model is refused (409) too', async () => {
    const { owner, access, modelId } = await newOrgWithModel();
    const saved = await createRule(owner, ruleInput(['nova-micro']));
    beforeNextWrite(() => patchRule(owner, saved.ruleId, { targets: [{ modelId, weight: 1 }] }));
    expect(await statusOf(deleteCustomModel(access, modelId))).toBe(409);
    expect((await getCustomModel(access, modelId)).modelId).toBe(modelId);
    expect((await getRule(owner, saved.ruleId)).targets[0]!.modelId).toBe(modelId);
  });

  it('without a race: a model a rule names cannot be deleted; once the rule lets go of it, it can', async () => {
    const { owner, access, modelId } = await newOrgWithModel();
    const before = await getCustomModel(access, modelId);
    const saved = await createRule(owner, ruleInput([modelId]));
    // Naming a model does not change it: the rule's mark is bookkeeping, never shown.
    expect(await getCustomModel(access, modelId)).toEqual(before);
    expect(await statusOf(deleteCustomModel(access, modelId))).toBe(409);
    await patchRule(owner, saved.ruleId, { targets: [{ modelId: 'nova-micro', weight: 1 }] });
    await deleteCustomModel(access, modelId);
    expect(await statusOf(getCustomModel(access, modelId))).toBe(404);
  });
});
