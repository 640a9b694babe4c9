/**
 * Permissions are `resource:action`. Built-in roles map to fixed sets; an organization may
 * define custom roles from the same catalogue. Other bounded contexts add their permissions
 * here, so one list describes what any role can grant.
 */
export const PERMISSIONS = [
  'org:read',
  'org:update',
  'org:delete',
  'members:read',
  'members:update',
  'members:remove',
  'members:transfer-ownership',
  'invitations:read',
  'invitations:create',
  'invitations:revoke',
  'roles:read',
  'roles:manage',
  'api-clients:read',
  'api-clients:create',
  'api-clients:revoke',
  'audit:read',
  'billing:read',
  'billing:manage',
  'usage:read',
  'gateway:invoke',
  'metrics:read',
  'models:read',
  'models:manage',
  'provider-credentials:read',
  'provider-credentials:manage',
  'routing:read',
  'routing:manage',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const BUILT_IN_ROLES = ['owner', 'admin', 'editor', 'viewer'] as const;
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number];

const OWNER_ONLY: Permission[] = ['org:delete', 'members:transfer-ownership'];
/** Admin-only reads: the audit trail and model metrics. */
const ADMIN_READS: Permission[] = ['audit:read', 'metrics:read'];
const READS: Permission[] = PERMISSIONS.filter((p) => p.endsWith(':read') && !ADMIN_READS.includes(p));

export const BUILT_IN_ROLE_PERMISSIONS: Record<BuiltInRole, readonly Permission[]> = {
  owner: PERMISSIONS,
  admin: PERMISSIONS.filter((p) => !OWNER_ONLY.includes(p)),
  editor: [...READS, 'gateway:invoke'],
  viewer: ['org:read', 'members:read', 'roles:read'],
};

export const BUILT_IN_ROLE_DESCRIPTIONS: Record<BuiltInRole, string> = {
  owner: 'Full control, including deleting the organization and transferring ownership.',
  admin: 'Manages members, invitations, roles, API clients and settings.',
  editor: 'Works with the organization’s resources; reads its settings.',
  viewer: 'Reads the organization and its members.',
};

export function isBuiltInRole(role: string): role is BuiltInRole {
  return (BUILT_IN_ROLES as readonly string[]).includes(role);
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/** Rank of built-in roles, to stop an admin from acting on an owner. */
export const ROLE_RANK: Record<BuiltInRole, number> = { owner: 4, admin: 3, editor: 2, viewer: 1 };
