import * as routes from '@platform/api/routes/gateway';
import { chat, embeddings, images, type GatewayCall } from '@platform/domain/gateway/service';
import { routeTags } from '@platform/domain/gateway/openai';
import { openAiModel, openAiModels } from '@platform/domain/gateway/models';
import { gatewayAccess } from '@platform/domain/gateway/access';
import { gatewayHandler, gatewayRoute, type GatewayInput } from '@platform/http/gateway';
import type { RouteDefinition, RouteSchemas } from '@platform/http/route';

/**
 * The OpenAI-compatible gateway: one function behind a Lambda function URL with response
 * streaming (see infra/api-stack.ts), serving every `surface: 'gateway'` route.
 */
const callOf = (route: RouteDefinition, input: GatewayInput<RouteSchemas>): GatewayCall => ({
  principal: input.principal,
  orgId: input.event.headers?.['openai-organization'] || undefined,
  requestId: input.requestId,
  signal: input.signal,
  deadline: input.deadline,
  resource: route.consumes,
  tags: routeTags(input.event.headers),
});

export const handler = gatewayHandler([
  gatewayRoute(routes.createChatCompletion, async (input) => chat(callOf(routes.createChatCompletion, input), input.body)),
  gatewayRoute(routes.createEmbeddings, async (input) => embeddings(callOf(routes.createEmbeddings, input), input.body)),
  gatewayRoute(routes.createImages, async (input) => images(callOf(routes.createImages, input), input.body)),
  gatewayRoute(routes.listOpenAiModels, async (input) => {
    const access = await gatewayAccess(input.principal, input.event.headers?.['openai-organization'] || undefined);
    return { json: await openAiModels(access) };
  }),
  gatewayRoute(routes.getOpenAiModel, async (input) => {
    const access = await gatewayAccess(input.principal, input.event.headers?.['openai-organization'] || undefined);
    return { json: await openAiModel(access, input.params.modelId) };
  }),
]);
