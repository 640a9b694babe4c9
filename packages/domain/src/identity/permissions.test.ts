import { describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_PERMISSIONS, PERMISSIONS } from './permissions.ts';
import { slugify } from './slug.ts';

describe('built-in roles', () => {
  it('give owners everything, admins all but deletion and ownership transfer', () => {
    expect([...BUILT_IN_ROLE_PERMISSIONS.owner].sort()).toEqual([...PERMISSIONS].sort());
    expect(BUILT_IN_ROLE_PERMISSIONS.admin).not.toContain('org:delete');
    expect(BUILT_IN_ROLE_PERMISSIONS.admin).not.toContain('members:transfer-ownership');
    expect(BUILT_IN_ROLE_PERMISSIONS.admin).toContain('members:update');
  });

  it('let editors read and use models but change no settings; keep viewers read-only and narrower', () => {
    expect(BUILT_IN_ROLE_PERMISSIONS.editor.every((p) => p.endsWith(':read') || p === 'gateway:invoke')).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.editor).toContain('gateway:invoke');
    expect(BUILT_IN_ROLE_PERMISSIONS.editor).not.toContain('metrics:read');
    expect(BUILT_IN_ROLE_PERMISSIONS.viewer.every((p) => p.endsWith(':read'))).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.viewer.every((p) => BUILT_IN_ROLE_PERMISSIONS.editor.includes(p))).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.viewer).not.toContain('api-clients:read');
  });
});

describe('slugs', () => {
  it('turn names into lower-case, dash-separated ASCII', () => {
    expect(slugify('Équipe Rouge & Co.')).toBe('equipe-rouge-co');
    expect(slugify('---')).toBe('org');
    expect(slugify('a'.repeat(80))).toHaveLength(40);
  });
});
