import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Entity } from 'electrodb';
import { describe, expect, it } from 'vitest';

/**
 * A bundled function skips ElectroDB's check of its models (`MODELS_CHECKED_IN_TESTS` in
 * `infra/constructs/esbuild.ts`): the check is here instead. Every module that defines entities
 * is imported, and every entity its exported `…Db` objects hold is built, with the real check.
 */
const domain = join(import.meta.dirname, '..');
const modules = readdirSync(domain, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
  .map((file) => ({ file, source: readFileSync(join(domain, file), 'utf8') }))
  .filter(({ source }) => source.includes('new Entity('));

async function entitiesOf(file: string): Promise<Entity<string, string, string, any>[]> {
  const exports = (await import(join(domain, file))) as Record<string, unknown>;
  return Object.values(exports)
    .filter((value): value is object => typeof value === 'object' && value !== null)
    .flatMap((holder) =>
      Object.entries(Object.getOwnPropertyDescriptors(holder))
        .filter(([, descriptor]) => descriptor.get)
        .map(([name]) => (holder as Record<string, unknown>)[name]),
    )
    .filter((value): value is Entity<string, string, string, any> => value instanceof Entity);
}

describe('entity models', () => {
  it.each(modules.map(({ file, source }) => [file, source.split('new Entity(').length - 1]))(
    '%s: each of its %i entities passes ElectroDB’s check of its model',
    async (file, defined) => {
      const entities = await entitiesOf(file as string);
      expect(new Set(entities.map((entity) => entity.schema.model.entity)).size).toBe(defined);
    },
  );

  it('are checked here: a model ElectroDB finds invalid is refused', () => {
    const invalid = () =>
      new Entity({
        model: { entity: 'broken', version: '1', service: 'platform' },
        attributes: { id: { type: 'string', required: 'yes' } },
        indexes: { byId: { pk: { field: 'pk', composite: ['id'] } } },
      } as never);
    expect(invalid).toThrow(/required/);
  });
});
