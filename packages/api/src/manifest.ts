import type { RouteDefinition } from '@platform/http/route';
import * as identity from './routes/identity.ts';
import * as platform from './routes/platform.ts';

/**
 * The one route manifest. CDK builds a Lambda and an API route from each entry (except
 * `localOnly`), the local server serves it, OpenAPI is generated from it, and the
 * isolation and bad-input suites iterate it.
 */
export const routes: RouteDefinition[] = [...Object.values(platform), ...Object.values(identity)];

export const deployedRoutes = () => routes.filter((r) => !r.localOnly);
