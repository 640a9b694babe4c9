import type { z } from 'zod';
import type { Permission } from '@platform/domain/identity/permissions';

/**
 * How a route is authenticated.
 * - public: no credentials.
 * - user: a Cognito user's access token (JWT authorizer).
 * - principal: a Cognito user or an API client key (Lambda authorizer).
 * - admin: a Cognito user in the platform `admin` group.
 */
export type AuthKind = 'public' | 'user' | 'principal' | 'admin';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The failure statuses the API answers (shared/errors.ts, the validation and the body limit). */
export type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 410 | 412 | 413 | 415 | 422 | 429 | 500 | 502 | 504;

export interface RouteSchemas {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  response?: z.ZodType;
}

export interface RouteDefinition<S extends RouteSchemas = RouteSchemas> {
  /** Stable id: names the Lambda function and the OpenAPI operation. */
  id: string;
  method: HttpMethod;
  /** API Gateway path syntax: `/v1/orgs/{orgId}/members`. */
  path: string;
  /** Handler module under `functions/`, without extension; it exports `handler`. */
  handler: string;
  auth: AuthKind;
  /** Checked for the `{orgId}` of the path before the handler runs. */
  permission?: Permission;
  /**
   * A signed-in user's token outlives the deletion of their account (until it expires), so the kit
   * refuses a deleted account before the handler runs: through the membership on `{orgId}` routes,
   * else by reading the profile (one GetItem). Set this on a route whose domain call already refuses
   * a deleted account in a read or write it makes anyway, so the profile is not read twice.
   */
  refusesDeletedAccount?: true;
  summary: string;
  tag: string;
  /** Status of a successful answer (200 unless said). */
  successStatus?: 200 | 201 | 202 | 204;
  /**
   * Status of an answer that finds done what the request asks (the same payment reference
   * again): answered beside `successStatus`, with the same body.
   */
  replayStatus?: 200;
  /**
   * The failures the route's own code can answer, beyond those every route of its kind answers
   * (`failureStatuses` in api/src/openapi.ts: validation, authentication, path lookups,
   * idempotency, limits): what its domain calls throw, e.g. 410 for an expired invitation, 502
   * when Stripe fails. The OpenAPI document lists exactly these and those.
   */
  errors?: readonly ErrorStatus[];
  /** POST that creates something: honours an `Idempotency-Key` header. */
  idempotent?: boolean;
  /**
   * Fields of the answer shown once (a new key's secret): an `Idempotency-Key` record never
   * stores them, and a replay is a 409 naming what the first request created (its `idField`).
   */
  shownOnce?: { fields: readonly string[]; idField: string; what: string };
  /** Served by the local cloud only, never deployed. */
  localOnly?: boolean;
  /**
   * The limited resource or agent type each call uses (`chat`, `generation`, …), checked
   * against the plan's limits before any work. Calls by API clients always use `api` too.
   */
  consumes?: string;
  /**
   * The handler calls a model provider itself (outside the gateway: testing a key), so its
   * function may invoke Bedrock models with its role, as the gateway's does.
   */
  invokesModels?: boolean;
  /**
   * The handler calls Stripe's API or checks its webhooks' signatures (`billing/stripe/`), so its
   * function gets Stripe's secret (`STRIPE_SECRET_ID` and the right to read it); no other does.
   * Whatever reaches `stripeConfig()` needs it, outside billing too (deleting an organization
   * cancels its Stripe subscription): without it, such a call fails with a 500 on AWS.
   */
  callsStripe?: boolean;
  /**
   * The largest body the route takes, in bytes: 256 KiB unless said (`DEFAULT_MAX_BODY_BYTES`).
   * Past it, a 413 before anything is parsed. A Lambda request holds at most 6 MB, so no route takes more.
   */
  maxBodyBytes?: number;
  /**
   * Headers a successful answer of this route sends that no other kind of route does (the CSV
   * export's `x-next-cursor`), each with what it says: the OpenAPI document declares them.
   */
  responseHeaders?: Readonly<Record<string, string>>;
  /** The media type of a raw answer (`text/csv`, `text/html`); JSON when absent. */
  produces?: string;
  /**
   * The route can stream its answer as server-sent events (`text/event-stream`, the chat
   * completions' `stream: true`): what its events are. The OpenAPI document publishes that
   * media type beside JSON, with this description.
   */
  streams?: string;
  /**
   * Where the route is served. `gateway`: the OpenAI-compatible AI gateway, one function that
   * streams its answers (a Lambda function URL with response streaming, since HTTP APIs buffer
   * Lambda responses). It authenticates in the function and answers errors in OpenAI's shape.
   * The HTTP API otherwise.
   */
  surface?: 'api' | 'gateway';
  schemas: S;
}

export const defineRoute = <S extends RouteSchemas>(route: RouteDefinition<S>) => route;

/** A path segment's value, decoded; one that does not decode (`%E0%A4`) as sent, so it names nothing (a 404, never a 500). */
export function decodedOrAsSent(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `/v1/orgs/{orgId}` → `/v1/orgs/:orgId` style matcher for the local server and tests. */
export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1]!);
}
