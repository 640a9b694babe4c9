import * as routes from '@platform/api/routes/gateway';
import type { GatewayCall } from '@platform/domain/gateway/service';
import { gatewayHandler, gatewayRoute, type GatewayInput } from '@platform/http/gateway';
import type { RouteDefinition, RouteSchemas } from '@platform/http/route';
import { lazy } from '@platform/domain/shared/lazy';

const loadService = lazy(() => import('@platform/domain/gateway/service'));
const loadAccess = lazy(() => import('@platform/domain/gateway/access'));
const loadModels = lazy(() => import('@platform/domain/gateway/models'));

/**
 * The OpenAI-compatible gateway: one function behind a Lambda function URL with response
 * streaming (see infra/api-stack.ts), serving every `surface: 'gateway'` route. Like every
 * handler, it loads the domain on its first call, not at a cold start (see README, "Cold starts").
 */
const callOf = (route: RouteDefinition, input: GatewayInput<RouteSchemas>): GatewayCall => ({
  principal: input.principal,
  orgId: input.event.headers?.['openai-organization'] || undefined,
  requestId: input.requestId,
  signal: input.signal,
  resource: route.consumes,
});

export const handler = gatewayHandler([
  gatewayRoute(routes.createChatCompletion, async (input) => {
    const { chat } = await loadService();
    return chat(callOf(routes.createChatCompletion, input), input.body);
  }),
  gatewayRoute(routes.createEmbeddings, async (input) => {
    const { embeddings } = await loadService();
    return embeddings(callOf(routes.createEmbeddings, input), input.body);
  }),
  gatewayRoute(routes.createImages, async (input) => {
    const { images } = await loadService();
    return images(callOf(routes.createImages, input), input.body);
  }),
  gatewayRoute(routes.listOpenAiModels, async (input) => {
    const { gatewayAccess } = await loadAccess();
    const { openAiModels } = await loadModels();
    const access = await gatewayAccess(input.principal, input.event.headers?.['openai-organization'] || undefined);
    return { json: await openAiModels(access) };
  }),
]);
