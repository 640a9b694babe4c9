import type { RouteDefinition } from '@platform/http/route';
import * as auth from './routes/identity/auth.ts';
import * as me from './routes/identity/me.ts';
import * as orgs from './routes/identity/orgs.ts';
import * as members from './routes/identity/members.ts';
import * as invitations from './routes/identity/invitations.ts';
import * as roles from './routes/identity/roles.ts';
import * as apiclients from './routes/identity/api-clients.ts';
import * as audit from './routes/identity/audit.ts';
import * as platform from './routes/platform.ts';
import * as credits from './routes/billing/credits.ts';
import * as plans from './routes/billing/plans.ts';
import * as limits from './routes/billing/limits.ts';
import * as notifications from './routes/notifications.ts';
import * as usage from './routes/billing/usage.ts';
import * as gateway from './routes/gateway.ts';
import * as providers from './routes/hub/providers.ts';
import * as models from './routes/hub/models.ts';
import * as credentials from './routes/hub/credentials.ts';
import * as routingRules from './routes/hub/routing-rules.ts';
import * as hubAdmin from './routes/hub/admin.ts';
import * as subscription from './routes/billing/subscription.ts';
import * as payments from './routes/billing/payments.ts';

/**
 * The one route manifest. CDK builds a Lambda and an API route from each entry (except
 * `localOnly`), the local server serves it, OpenAPI is generated from it, and the
 * isolation and bad-input suites iterate it.
 */
export const routes: RouteDefinition[] = [
  ...Object.values(platform),
  ...Object.values(auth),
  ...Object.values(me),
  ...Object.values(orgs),
  ...Object.values(members),
  ...Object.values(invitations),
  ...Object.values(roles),
  ...Object.values(apiclients),
  ...Object.values(audit),
  ...Object.values(credits),
  ...Object.values(plans),
  ...Object.values(limits),
  ...Object.values(notifications),
  ...Object.values(usage),
  ...Object.values(gateway),
  ...Object.values(providers),
  ...Object.values(models),
  ...Object.values(credentials),
  ...Object.values(routingRules),
  ...Object.values(hubAdmin),
  ...Object.values(subscription),
  ...Object.values(payments),
];

export const deployedRoutes = () => routes.filter((r) => !r.localOnly);
