import { Service, type EntityItem } from 'electrodb';
import { clock } from '../shared/clock.ts';
import { Entity, SERVICE, entityConfig, lazy } from '../shared/dynamo.ts';

/**
 * Identity & access entities (DOMAIN.md §1). Keys are composed by ElectroDB; nothing else
 * in the code base spells a key by hand.
 *
 * Each entity is built on first use (`db.user`, `db.organization`, …): ElectroDB validates a
 * model when it builds it, and a Lambda should pay only for the entities it touches.
 */
const service = SERVICE;
const config = entityConfig;
/**
 * When an item was made and last written, in the domain's time (`clock`). A write that answers the
 * item names its `updatedAt` (and a creation its `createdAt`), so that what it answers is what it
 * stored: a time stamped here instead would be one the write never sees. A write that names none
 * (a last use recorded, a soft delete) gets now.
 */
const timestamps = {
  createdAt: { type: 'string', required: true, readOnly: true, default: () => clock.nowIso() },
  updatedAt: {
    type: 'string',
    required: true,
    watch: '*',
    default: () => clock.nowIso(),
    set: (value?: string) => value ?? clock.nowIso(),
  },
} as const;

const UserEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'user', version: '1', service },
        attributes: {
          userId: { type: 'string', required: true, readOnly: true },
          email: { type: 'string', required: true },
          username: { type: 'string' },
          fullName: { type: 'string' },
          firstName: { type: 'string' },
          lastName: { type: 'string' },
          avatarUrl: { type: 'string' },
          languagePreference: { type: 'string', default: 'en-US' },
          timezone: { type: 'string', default: 'UTC' },
          socialProvider: { type: ['google', 'facebook', 'apple'] as const },
          socialProviderId: { type: 'string' },
          isEmailVerified: { type: 'boolean', default: false },
          mfaEnabled: { type: 'boolean', default: false },
          isActive: { type: 'boolean', default: true },
          lastLoginAt: { type: 'string' },
          lastLoginIp: { type: 'string' },
          defaultOrgId: { type: 'string' },
          settings: { type: 'any' },
          /**
           * Signed out everywhere at this instant (a password reset, the account's deletion): every session
           * opened before it has ended, whatever its own row says. One write, however many devices.
           */
          sessionsValidAfter: { type: 'string' },
          deletedAt: { type: 'string' },
          /** A deleted account stopped at Cognito at this instant; deleted without it, a retry of the deletion stops it. */
          signInDisabledAt: { type: 'string' },
          ...timestamps,
        },
        indexes: {
          byId: { pk: { field: 'pk', composite: ['userId'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

/**
 * A value that must be unique platform-wide (org slug, username, Odoo sale order), or for a
 * while (the pending invitation of an address to an organization, until `expiresAt`): a row per value.
 */
const UniqueEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'unique', version: '1', service },
        attributes: {
          kind: { type: ['slug', 'username', 'odoo-sale-order', 'invitation'] as const, required: true },
          value: { type: 'string', required: true },
          ownerId: { type: 'string', required: true },
          expiresAt: { type: 'string' },
          ttl: { type: 'number' },
        },
        indexes: {
          byValue: { pk: { field: 'pk', composite: ['kind', 'value'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

const OrganizationEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'organization', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          name: { type: 'string', required: true },
          slug: { type: 'string', required: true },
          orgType: { type: ['SOLO', 'TEAM', 'ENTERPRISE'] as const, required: true },
          apiKeyStrategy: { type: ['PLATFORM', 'BYOK', 'HYBRID'] as const, default: 'PLATFORM' },
          ownerId: { type: 'string', required: true },
          /** Kept with the organization so "at least one owner" is one condition, not a count. */
          ownerCount: { type: 'number', required: true, default: 1 },
          createdBy: { type: 'string', required: true },
          /** Custom roles live in the organization item: one read authorizes a request. */
          roles: {
            type: 'list',
            default: () => [],
            items: {
              type: 'map',
              properties: {
                roleId: { type: 'string', required: true },
                name: { type: 'string', required: true },
                description: { type: 'string' },
                permissions: { type: 'set', items: 'string', required: true },
                createdBy: { type: 'string', required: true },
                createdAt: { type: 'string', required: true },
                updatedAt: { type: 'string', required: true },
              },
            },
          },
          /** The current plan, kept here too so that authorizing a request also tells its limits. */
          planId: { type: 'string', default: 'free' },
          /** Limits set for this organization, its users or its API clients (see billing/limits.ts). */
          limitOverrides: { type: 'any' },
          version: { type: 'number', default: 1 },
          deletedAt: { type: 'string' },
          ...timestamps,
        },
        indexes: {
          byId: { pk: { field: 'pk', composite: ['orgId'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

const MembershipEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'membership', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          userId: { type: 'string', required: true, readOnly: true },
          email: { type: 'string', required: true },
          fullName: { type: 'string' },
          /** A built-in role (owner, admin, editor, viewer) or a custom role id of the organization. */
          role: { type: 'string', required: true },
          assignedBy: { type: 'string', required: true },
          assignedAt: { type: 'string', required: true },
          expiresAt: { type: 'string' },
          isActive: { type: 'boolean', default: true },
          ...timestamps,
        },
        indexes: {
          byOrg: {
            collection: 'organization',
            pk: { field: 'pk', composite: ['orgId'] },
            sk: { field: 'sk', composite: ['userId'] },
          },
          byUser: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['userId'] },
            sk: { field: 'gsi1sk', composite: ['orgId'] },
          },
          /** With invitations, the `inbox` of an email: one query says whether it is a member or invited. */
          byEmail: {
            index: 'gsi2',
            collection: 'inbox',
            pk: { field: 'gsi2pk', composite: ['email'] },
            sk: { field: 'gsi2sk', composite: ['orgId'] },
          },
        },
      },
      config(),
    ),
);

const InvitationEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'invitation', version: '1', service },
        attributes: {
          invitationId: { type: 'string', required: true, readOnly: true },
          orgId: { type: 'string', required: true, readOnly: true },
          orgName: { type: 'string', required: true },
          email: { type: 'string', required: true },
          role: { type: 'string', required: true },
          status: { type: ['pending', 'accepted', 'declined', 'revoked'] as const, required: true, default: 'pending' },
          invitedBy: { type: 'string', required: true },
          expiresAt: { type: 'string', required: true },
          respondedAt: { type: 'string' },
          ttl: { type: 'number' },
          ...timestamps,
        },
        indexes: {
          byId: { pk: { field: 'pk', composite: ['invitationId'] }, sk: { field: 'sk', composite: [] } },
          byOrg: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['orgId'] },
            sk: { field: 'gsi1sk', composite: ['invitationId'] },
          },
          byEmail: {
            index: 'gsi2',
            collection: 'inbox',
            pk: { field: 'gsi2pk', composite: ['email'] },
            sk: { field: 'gsi2sk', composite: ['invitationId'] },
          },
        },
      },
      config(),
    ),
);

const ApiClientEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'apiclient', version: '1', service },
        attributes: {
          clientId: { type: 'string', required: true, readOnly: true },
          orgId: { type: 'string', required: true, readOnly: true },
          name: { type: 'string', required: true },
          /** SHA-256 of the secret half of the key; the key itself is never stored. */
          secretHash: { type: 'string', required: true },
          keyPreview: { type: 'string', required: true },
          scopes: { type: 'set', items: 'string', required: true },
          isActive: { type: 'boolean', default: true },
          createdBy: { type: 'string', required: true },
          /** The member the key acts for (its creator, or the member of the key that made it): bounds its scopes. */
          memberId: { type: 'string' },
          lastUsedAt: { type: 'string' },
          expiresAt: { type: 'string' },
          revokedAt: { type: 'string' },
          revokedBy: { type: 'string' },
          ...timestamps,
        },
        indexes: {
          byId: { pk: { field: 'pk', composite: ['clientId'] }, sk: { field: 'sk', composite: [] } },
          byOrg: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['orgId'] },
            sk: { field: 'gsi1sk', composite: ['clientId'] },
          },
        },
      },
      config(),
    ),
);

const SessionEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'session', version: '1', service },
        attributes: {
          userId: { type: 'string', required: true, readOnly: true },
          sessionId: { type: 'string', required: true, readOnly: true },
          deviceInfo: { type: 'string' },
          ipAddress: { type: 'string' },
          userAgent: { type: 'string' },
          lastActivity: { type: 'string', required: true },
          expiresAt: { type: 'string', required: true },
          /** SHA-256 of the refresh token: finds the session on refresh without storing the token in clear. */
          refreshTokenHash: { type: 'string', required: true },
          /** The refresh token, encrypted, so that revoking the device can revoke it at Cognito. */
          refreshTokenCipher: { type: 'string', required: true },
          revokedAt: { type: 'string' },
          ttl: { type: 'number' },
          ...timestamps,
        },
        indexes: {
          byUser: {
            pk: { field: 'pk', composite: ['userId'] },
            sk: { field: 'sk', composite: ['sessionId'] },
          },
          byRefreshToken: {
            index: 'gsi1',
            pk: { field: 'gsi1pk', composite: ['refreshTokenHash'] },
            sk: { field: 'gsi1sk', composite: [] },
          },
        },
      },
      config(),
    ),
);

/**
 * A password reset whose sign-out everywhere failed after Cognito changed the password (`resetPassword`): its code
 * is spent, so only this row tells its retry from a made-up code. One per address (lower-cased), for a day.
 */
const PendingResetSignOutEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'pendingresetsignout', version: '1', service },
        attributes: {
          email: { type: 'string', required: true, readOnly: true },
          /** Epoch seconds: the retry is honoured until then, and DynamoDB's TTL removes the row some time after. */
          ttl: { type: 'number', required: true },
        },
        indexes: {
          byEmail: { pk: { field: 'pk', composite: ['email'] }, sk: { field: 'sk', composite: [] } },
        },
      },
      config(),
    ),
);

const AuditEventEntity = lazy(
  () =>
    new Entity(
      {
        model: { entity: 'auditevent', version: '1', service },
        attributes: {
          orgId: { type: 'string', required: true, readOnly: true },
          eventId: { type: 'string', required: true, readOnly: true },
          action: { type: 'string', required: true },
          actorType: { type: ['user', 'apiClient', 'system'] as const, required: true },
          actorId: { type: 'string', required: true },
          targetType: { type: 'string' },
          targetId: { type: 'string' },
          details: { type: 'any' },
          at: { type: 'string', required: true },
        },
        indexes: {
          byOrg: {
            pk: { field: 'pk', composite: ['orgId'] },
            sk: { field: 'sk', composite: ['eventId'] },
          },
        },
      },
      config(),
    ),
);

export const db = {
  get user() {
    return UserEntity();
  },
  get unique() {
    return UniqueEntity();
  },
  get organization() {
    return OrganizationEntity();
  },
  get membership() {
    return MembershipEntity();
  },
  get invitation() {
    return InvitationEntity();
  },
  get apiClient() {
    return ApiClientEntity();
  },
  get session() {
    return SessionEntity();
  },
  get auditEvent() {
    return AuditEventEntity();
  },
  get pendingResetSignOut() {
    return PendingResetSignOutEntity();
  },
};

/** Memberships and invitations of one email address, in one query (the `inbox` collection). */
export const inboxService = lazy(() => new Service({ membership: db.membership, invitation: db.invitation }, config()));

export type User = EntityItem<ReturnType<typeof UserEntity>>;
export type Organization = EntityItem<ReturnType<typeof OrganizationEntity>>;
export type CustomRole = NonNullable<Organization['roles']>[number];
export type Membership = EntityItem<ReturnType<typeof MembershipEntity>>;
export type Invitation = EntityItem<ReturnType<typeof InvitationEntity>>;
export type ApiClient = EntityItem<ReturnType<typeof ApiClientEntity>>;
export type Session = EntityItem<ReturnType<typeof SessionEntity>>;
export type AuditEvent = EntityItem<ReturnType<typeof AuditEventEntity>>;
