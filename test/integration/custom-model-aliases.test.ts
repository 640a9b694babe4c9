import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { OrgAccess } from '@platform/domain/identity/access';
import { createCustomModel } from '@platform/domain/hub/custom-models';
import { hubDb } from '@platform/domain/hub/entities';
import { saveCatalogueModel } from '@platform/domain/hub/models';
import { orgKey } from '@platform/domain/hub/owners';
import * as snapshots from '@platform/domain/hub/snapshot';
import { newOrgId, platformOwnerOf, uniqueSlug } from '../helpers/hub.ts';

/**
 * Another Lambda instance's read of the catalogue may lag a model an admin just added: the
 * snapshot the creation reads is served as it was before, so only the write's own condition
 * stands between the alias and the new model's id. Writes and the other reads go to DynamoDB Local.
 */
let lagging: snapshots.HubSnapshot | undefined;
vi.mock('@platform/domain/hub/snapshot', async (original) => {
  const actual = await original<typeof snapshots>();
  return { ...actual, loadSnapshot: async (owner: string) => lagging ?? actual.loadSnapshot(owner) };
});

const admin = platformOwnerOf();
const model = {
  providerSlug: 'local',
  providerModelId: 'local-chat',
  name: 'Ours',
  type: 'TEXT' as const,
  capabilities: ['chat' as const],
  pricing: { inputPerMTokMicros: 1, outputPerMTokMicros: 1 },
  status: 'Active' as const,
  tags: [],
};

describe('creating a custom model with an alias', () => {
  it('is a 409 when the alias is the id of a catalogue model the lagging catalogue read does not show yet', async () => {
    const catalogueId = uniqueSlug('alias-race');
    lagging = await snapshots.loadSnapshot('platform');
    try {
      await saveCatalogueModel(admin, catalogueId, { ...model, kind: 'external', aliases: [] });
      const orgId = newOrgId();
      const access = { orgId, actorId: randomUUID(), actorType: 'user' } as OrgAccess;
      const created = createCustomModel(access, { ...model, aliases: [catalogueId] });
      await expect(created).rejects.toMatchObject({
        status: 409,
        fieldErrors: [{ path: 'aliases', message: `${catalogueId} is the id of a catalogue model` }],
      });
      // Nothing was written: no model, no alias.
      const { data } = await hubDb.model.query.byOwner({ owner: orgKey(orgId) }).go();
      expect(data).toEqual([]);
      expect((await hubDb.modelAlias.get({ owner: orgKey(orgId), alias: catalogueId }).go()).data).toBeNull();
    } finally {
      lagging = undefined;
    }
  });
});
