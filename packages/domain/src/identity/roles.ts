import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { auditBy, auditItem } from './audit.ts';
import type { OrgAccess } from './access.ts';
import { db, type CustomRole } from './entities.ts';
import { BUILT_IN_ROLES, BUILT_IN_ROLE_DESCRIPTIONS, BUILT_IN_ROLE_PERMISSIONS, isPermission } from './permissions.ts';
import { transactWrite, put, update } from '../shared/transactions.ts';

export interface RoleView {
  roleId: string;
  name: string;
  description?: string;
  permissions: string[];
  isSystemRole: boolean;
}

export function listRoles(access: OrgAccess): RoleView[] {
  return [
    ...BUILT_IN_ROLES.map((r) => ({
      roleId: r,
      name: r[0]!.toUpperCase() + r.slice(1),
      description: BUILT_IN_ROLE_DESCRIPTIONS[r],
      permissions: [...BUILT_IN_ROLE_PERMISSIONS[r]],
      isSystemRole: true,
    })),
    ...(access.org.roles ?? []).map(customView),
  ];
}

const customView = (r: CustomRole): RoleView => ({
  roleId: r.roleId,
  name: r.name,
  description: r.description,
  permissions: [...r.permissions].sort(),
  isSystemRole: false,
});

/** A custom role grants only catalogue permissions the caller holds themself. */
function checkPermissions(access: OrgAccess, permissions: string[]) {
  const unknown = permissions.filter((p) => !isPermission(p));
  if (unknown.length)
    throw new ValidationError(
      'Unknown permissions',
      unknown.map((p) => ({ path: 'permissions', message: `Unknown permission ${p}` })),
    );
  const beyond = permissions.filter((p) => !access.permissions.has(p));
  if (beyond.length) throw new ForbiddenError(`You cannot grant permissions you do not hold: ${beyond.join(', ')}`);
}

async function saveRoles(
  access: OrgAccess,
  roles: CustomRole[],
  action: 'role.created' | 'role.updated' | 'role.deleted',
  role: CustomRole,
) {
  const version = access.org.version ?? 1;
  const result = await transactWrite([
    update(
      db.organization
        .patch({ orgId: access.orgId })
        .set({ roles })
        .add({ version: 1 })
        .where(({ version: v }, { eq }) => eq(v, version)),
    ),
    put(
      db.auditEvent.create(
        auditItem({
          ...auditBy(access),
          action,
          targetType: 'role',
          targetId: role.roleId,
          details: { name: role.name, permissions: [...role.permissions] },
        }),
      ),
    ),
  ]);
  if (result.canceled) throw new ConflictError('The roles changed while you edited them; retry');
}

const MAX_CUSTOM_ROLES = 50;

/**
 * Names compare as they read: without case, spaces or invisible characters, and with look-alike
 * forms folded (NFKC): "Owner", "owner ", "O wner", "Own\u200ber" (a zero-width space) and
 * the full-width "Ｏｗｎｅｒ" would read as one role in a list.
 */
const nameKey = (name: string) =>
  name
    .normalize('NFKC')
    .replace(/[\s\p{Cf}]+/gu, '')
    .toLowerCase();

/**
 * A custom role's name (on creation or rename) is neither a built-in role's nor another custom
 * role's: a custom role named "Owner" would pass for the real one.
 */
function assertNameFree(access: OrgAccess, name: string, exceptRoleId?: string) {
  const key = nameKey(name);
  const taken =
    BUILT_IN_ROLES.some((r) => r === key) ||
    (access.org.roles ?? []).some((r) => r.roleId !== exceptRoleId && nameKey(r.name) === key);
  if (taken) throw new ConflictError('A role with that name exists', [{ path: 'name', message: 'Already exists' }]);
}

export async function createRole(access: OrgAccess, input: { name: string; description?: string; permissions: string[] }) {
  checkPermissions(access, input.permissions);
  const roles = access.org.roles ?? [];
  if (roles.length >= MAX_CUSTOM_ROLES) throw new ConflictError(`An organization has at most ${MAX_CUSTOM_ROLES} custom roles`);
  assertNameFree(access, input.name);
  const now = new Date().toISOString();
  const role: CustomRole = {
    roleId: newId('role'),
    name: input.name,
    description: input.description,
    permissions: input.permissions,
    createdBy: access.actorId,
    createdAt: now,
    updatedAt: now,
  };
  await saveRoles(access, [...roles, role], 'role.created', role);
  return customView(role);
}

function findRole(access: OrgAccess, roleId: string): CustomRole {
  const role = access.org.roles?.find((r) => r.roleId === roleId);
  if (!role)
    throw new NotFoundError(BUILT_IN_ROLES.some((r) => r === roleId) ? 'Built-in roles cannot be changed' : 'Role not found');
  return role;
}

export async function updateRole(
  access: OrgAccess,
  roleId: string,
  patch: { name?: string; description?: string; permissions?: string[] },
) {
  const current = findRole(access, roleId);
  if (patch.permissions) checkPermissions(access, patch.permissions);
  if (patch.name) assertNameFree(access, patch.name, roleId);
  const role: CustomRole = {
    ...current,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    updatedAt: new Date().toISOString(),
  };
  await saveRoles(
    access,
    (access.org.roles ?? []).map((r) => (r.roleId === roleId ? role : r)),
    'role.updated',
    role,
  );
  return customView(role);
}

/**
 * Deletes a role nobody holds. The holders are counted before the write, so the write is
 * conditioned on the organization's version as read: giving a custom role (a member change,
 * an accepted invitation) bumps that version in its own transaction, so a holder made after
 * the count fails this write (409) instead of being left on a role that no longer exists.
 */
export async function deleteRole(access: OrgAccess, roleId: string) {
  const role = findRole(access, roleId);
  const { data } = await db.membership.query
    .byOrg({ orgId: access.orgId })
    .where(({ role: r }, { eq }) => eq(r, roleId))
    .go({ pages: 'all' });
  if (data.length) throw new ConflictError('Members still hold this role; give them another role first');
  await saveRoles(
    access,
    (access.org.roles ?? []).filter((r) => r.roleId !== roleId),
    'role.deleted',
    role,
  );
}
