/**
 * The hub enumerations (and the admin config keys) that both the domain and the API's zod
 * schemas use. Apart from the entities so that a schema (which a handler loads at a cold
 * start) does not load ElectroDB and the DynamoDB client with them.
 */
export const STATUSES = ['Active', 'Inactive', 'Deprecated'] as const;
export type Status = (typeof STATUSES)[number];
export const MODEL_KINDS = ['external', 'reference', 'custom'] as const;
export const TASK_TYPES = ['ImageGeneration', 'TextGeneration', 'ImageTransformation', 'StyleTransfer', 'ContentSafety'] as const;
/** What a model (or provider) can do; the gateway's operations need `chat`, `embeddings` or `images`. */
export const CAPABILITIES = ['chat', 'stream', 'embeddings', 'images', 'vision', 'tools', 'json'] as const;
export type Capability = (typeof CAPABILITIES)[number];
/** Admin config keys (admin-config.ts): `routing_agent`, or a family and a provider slug (the slug's charset: `a-z`, digits, `-`). */
export const CONFIG_KEY_PATTERN = /^(routing_agent|(chat|artifact|git_mcp)_agent_[a-z][a-z0-9-]{1,31})$/;
export const CONFIG_FAMILIES = ['routing_agent', 'chat_agent', 'artifact_agent', 'git_mcp_agent'] as const;
export type ConfigFamily = (typeof CONFIG_FAMILIES)[number];
