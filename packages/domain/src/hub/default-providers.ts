import type { AdapterKind } from '../gateway/types.ts';
import type { JsonSchema } from '../shared/json-schema.ts';
import type { Capability, Status } from './entities.ts';

/**
 * The provider catalogue's defaults (seeds 000 provider_capabilities / provider_groups, 002
 * Provider). A provider a platform admin never edited is served from here; an edit is stored
 * and wins (providers.ts), like the plan catalogue.
 */
export interface ProviderGroup {
  name: string;
  icon?: string;
  color?: string;
}

export interface Provider {
  slug: string;
  displayName: string;
  description?: string;
  website?: string;
  docsUrl?: string;
  adapter: AdapterKind;
  requiresApiKey: boolean;
  requiresBaseUrl: boolean;
  supportsStreaming: boolean;
  capabilities: Capability[];
  /** JSON Schema (the subset of shared/json-schema.ts) of a credential's `config`; enforced on save. */
  configSchema: JsonSchema;
  /** Where the adapter calls when a credential names no base URL. */
  defaultBaseUrl?: string;
  group: ProviderGroup;
  status: Status;
  updatedAt?: string;
  updatedBy?: string;
}

const timeoutMs: JsonSchema = { type: 'integer', minimum: 1000, maximum: 600000, description: 'Per-call timeout' };

export const DEFAULT_PROVIDERS: Record<string, Provider> = {
  bedrock: {
    slug: 'bedrock',
    displayName: 'Amazon Bedrock',
    description:
      'Foundation models on AWS (Anthropic, Amazon Nova and Titan, Meta Llama, Mistral), called with the platform’s IAM role',
    website: 'https://aws.amazon.com/bedrock/',
    docsUrl: 'https://docs.aws.amazon.com/bedrock/latest/userguide/',
    adapter: 'bedrock',
    requiresApiKey: false,
    requiresBaseUrl: false,
    supportsStreaming: true,
    capabilities: ['chat', 'stream', 'embeddings', 'images', 'vision', 'tools'],
    configSchema: {
      type: 'object',
      properties: {
        region: { type: 'string', pattern: '^[a-z]{2}(-gov)?-[a-z]+-\\d$', description: 'AWS region, e.g. us-east-1' },
      },
      additionalProperties: false,
    },
    group: { name: 'AWS', icon: 'aws', color: '#FF9900' },
    status: 'Active',
  },
  openai: {
    slug: 'openai',
    displayName: 'OpenAI',
    description: 'GPT models through the OpenAI API, or any OpenAI-compatible server given its base URL',
    website: 'https://openai.com',
    docsUrl: 'https://platform.openai.com/docs/api-reference',
    adapter: 'openai',
    requiresApiKey: true,
    requiresBaseUrl: false,
    supportsStreaming: true,
    capabilities: ['chat', 'stream', 'embeddings', 'images', 'vision', 'tools', 'json'],
    configSchema: {
      type: 'object',
      properties: {
        organization: { type: 'string', pattern: '^org-[A-Za-z0-9]+$', description: 'OpenAI-Organization header' },
        project: { type: 'string', pattern: '^proj_[A-Za-z0-9]+$', description: 'OpenAI-Project header' },
        tokenLimitParam: {
          type: 'string',
          enum: ['max_tokens', 'max_completion_tokens'],
          description: 'Name of the output cap (default: max_completion_tokens for api.openai.com, max_tokens elsewhere)',
        },
        timeoutMs,
      },
      additionalProperties: false,
    },
    defaultBaseUrl: 'https://api.openai.com/v1',
    group: { name: 'OpenAI', icon: 'openai', color: '#10A37F' },
    status: 'Active',
  },
  anthropic: {
    slug: 'anthropic',
    displayName: 'Anthropic',
    description: 'Claude models through the Anthropic Messages API',
    website: 'https://www.anthropic.com',
    docsUrl: 'https://docs.anthropic.com/en/api/messages',
    adapter: 'anthropic',
    requiresApiKey: true,
    requiresBaseUrl: false,
    supportsStreaming: true,
    capabilities: ['chat', 'stream', 'vision', 'tools'],
    configSchema: {
      type: 'object',
      properties: {
        anthropicVersion: { type: 'string', enum: ['2023-06-01'], description: 'anthropic-version header' },
        timeoutMs,
      },
      additionalProperties: false,
    },
    defaultBaseUrl: 'https://api.anthropic.com/v1',
    group: { name: 'Anthropic', icon: 'anthropic', color: '#D97757' },
    status: 'Active',
  },
  google: {
    slug: 'google',
    displayName: 'Google Gemini',
    description: 'Gemini models through the Gemini API',
    website: 'https://ai.google.dev',
    docsUrl: 'https://ai.google.dev/api',
    adapter: 'google',
    requiresApiKey: true,
    requiresBaseUrl: false,
    supportsStreaming: true,
    capabilities: ['chat', 'stream', 'embeddings', 'vision', 'tools', 'json'],
    configSchema: {
      type: 'object',
      properties: { apiVersion: { type: 'string', enum: ['v1', 'v1beta'] }, timeoutMs },
      additionalProperties: false,
    },
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
    group: { name: 'Google', icon: 'google', color: '#4285F4' },
    status: 'Active',
  },
  local: {
    slug: 'local',
    displayName: 'Local (development)',
    description: 'A deterministic in-process model for local development and tests; answers are labelled local',
    adapter: 'local',
    requiresApiKey: false,
    requiresBaseUrl: false,
    supportsStreaming: true,
    capabilities: ['chat', 'stream', 'embeddings', 'images'],
    configSchema: {
      type: 'object',
      properties: { latencyMs: { type: 'integer', minimum: 0, maximum: 10000, description: 'Added delay per call' } },
      additionalProperties: false,
    },
    group: { name: 'Local', icon: 'terminal', color: '#6B7280' },
    status: 'Active',
  },
};
