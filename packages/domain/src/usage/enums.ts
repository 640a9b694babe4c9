/**
 * The usage enumerations that both the entities store and the API's zod schemas describe.
 * Apart from the entities so that a schema (which a handler loads at a cold start) does not
 * load ElectroDB and the DynamoDB client with them.
 */
export const AGENT_TYPES = ['routing', 'chat', 'artifact', 'git_mcp', 'generation', 'training'] as const;
export type AgentType = (typeof AGENT_TYPES)[number];
export const USAGE_STATUSES = ['success', 'error', 'timeout'] as const;
export type UsageStatus = (typeof USAGE_STATUSES)[number];
