import type { ModelPricing, ModelType } from '../gateway/types.ts';
import type { Capability, MODEL_KINDS, Status, TASK_TYPES } from './entities.ts';

/**
 * The model catalogue's defaults: real provider model ids with their published on-demand
 * prices (Bedrock: us-east-1), in micro-USD per million tokens or per image. A model a
 * platform admin never edited is served from here; an edit is stored and wins (models.ts).
 */
export interface ModelDefaults {
  temperature?: number;
  topP?: number;
  systemPrompt?: string;
}

export interface Model {
  modelId: string;
  kind: (typeof MODEL_KINDS)[number];
  /** The organization of a custom model; absent for the catalogue. */
  orgId?: string;
  providerSlug: string;
  providerModelId: string;
  name: string;
  description?: string;
  version?: string;
  type: ModelType;
  taskType?: (typeof TASK_TYPES)[number];
  capabilities: Capability[];
  contextWindow?: number;
  maxTokens?: number;
  defaults?: ModelDefaults;
  pricing: ModelPricing;
  status: Status;
  tags: string[];
  aliases: string[];
  createdBy?: string;
  updatedBy?: string;
  createdAt?: string;
  updatedAt?: string;
}

/** Dollars per million tokens → micro-USD per million tokens. */
const usd = (dollars: number) => Math.round(dollars * 1_000_000);

type Entry = Omit<Model, 'kind' | 'status' | 'tags' | 'aliases'> & Partial<Pick<Model, 'tags' | 'aliases'>>;

const text = (entry: Omit<Entry, 'type' | 'taskType'> & { type?: ModelType }): Model => ({
  kind: 'external',
  status: 'Active',
  type: 'TEXT',
  taskType: 'TextGeneration',
  tags: [],
  aliases: [],
  ...entry,
});

const image = (entry: Omit<Entry, 'type' | 'taskType' | 'capabilities'>): Model => ({
  kind: 'external',
  status: 'Active',
  type: 'IMAGE',
  taskType: 'ImageGeneration',
  capabilities: ['images'],
  tags: [],
  aliases: [],
  ...entry,
});

const chat: Capability[] = ['chat', 'stream'];

const list: Model[] = [
  // Amazon Bedrock
  text({
    modelId: 'claude-3-haiku',
    providerSlug: 'bedrock',
    providerModelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    name: 'Claude 3 Haiku',
    version: '20240307',
    capabilities: [...chat, 'vision', 'tools'],
    contextWindow: 200_000,
    maxTokens: 4096,
    pricing: { inputPerMTokMicros: usd(0.25), outputPerMTokMicros: usd(1.25) },
    tags: ['anthropic', 'fast'],
    aliases: ['default-chat'],
  }),
  text({
    modelId: 'claude-3-5-sonnet',
    providerSlug: 'bedrock',
    providerModelId: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
    name: 'Claude 3.5 Sonnet',
    version: '20240620',
    capabilities: [...chat, 'vision', 'tools'],
    contextWindow: 200_000,
    maxTokens: 4096,
    pricing: { inputPerMTokMicros: usd(3), outputPerMTokMicros: usd(15) },
    tags: ['anthropic', 'smart'],
    aliases: ['smart'],
  }),
  text({
    modelId: 'nova-micro',
    providerSlug: 'bedrock',
    providerModelId: 'amazon.nova-micro-v1:0',
    name: 'Amazon Nova Micro',
    version: 'v1',
    capabilities: [...chat, 'tools'],
    contextWindow: 128_000,
    maxTokens: 5000,
    pricing: { inputPerMTokMicros: usd(0.035), outputPerMTokMicros: usd(0.14) },
    tags: ['amazon', 'fast', 'cheap'],
    aliases: ['fast'],
  }),
  text({
    modelId: 'nova-lite',
    providerSlug: 'bedrock',
    providerModelId: 'amazon.nova-lite-v1:0',
    name: 'Amazon Nova Lite',
    version: 'v1',
    capabilities: [...chat, 'vision', 'tools'],
    contextWindow: 300_000,
    maxTokens: 5000,
    pricing: { inputPerMTokMicros: usd(0.06), outputPerMTokMicros: usd(0.24) },
    tags: ['amazon', 'cheap'],
  }),
  text({
    modelId: 'nova-pro',
    providerSlug: 'bedrock',
    providerModelId: 'amazon.nova-pro-v1:0',
    name: 'Amazon Nova Pro',
    version: 'v1',
    capabilities: [...chat, 'vision', 'tools'],
    contextWindow: 300_000,
    maxTokens: 5000,
    pricing: { inputPerMTokMicros: usd(0.8), outputPerMTokMicros: usd(3.2) },
    tags: ['amazon'],
  }),
  text({
    modelId: 'llama3-1-8b',
    providerSlug: 'bedrock',
    providerModelId: 'meta.llama3-1-8b-instruct-v1:0',
    name: 'Llama 3.1 8B Instruct',
    version: '3.1',
    capabilities: chat,
    contextWindow: 128_000,
    maxTokens: 2048,
    pricing: { inputPerMTokMicros: usd(0.22), outputPerMTokMicros: usd(0.22) },
    tags: ['meta', 'open-weights'],
  }),
  text({
    modelId: 'llama3-1-70b',
    providerSlug: 'bedrock',
    providerModelId: 'meta.llama3-1-70b-instruct-v1:0',
    name: 'Llama 3.1 70B Instruct',
    version: '3.1',
    capabilities: [...chat, 'tools'],
    contextWindow: 128_000,
    maxTokens: 2048,
    pricing: { inputPerMTokMicros: usd(0.72), outputPerMTokMicros: usd(0.72) },
    tags: ['meta', 'open-weights'],
  }),
  text({
    modelId: 'mistral-large',
    providerSlug: 'bedrock',
    providerModelId: 'mistral.mistral-large-2402-v1:0',
    name: 'Mistral Large (24.02)',
    version: '2402',
    capabilities: [...chat, 'tools'],
    contextWindow: 32_000,
    maxTokens: 8192,
    pricing: { inputPerMTokMicros: usd(4), outputPerMTokMicros: usd(12) },
    tags: ['mistral'],
  }),
  {
    ...text({
      modelId: 'titan-embed-text-v2',
      providerSlug: 'bedrock',
      providerModelId: 'amazon.titan-embed-text-v2:0',
      name: 'Amazon Titan Text Embeddings V2',
      version: 'v2',
      capabilities: ['embeddings'],
      contextWindow: 8192,
      pricing: { inputPerMTokMicros: usd(0.02), outputPerMTokMicros: 0 },
      tags: ['amazon', 'embeddings'],
      aliases: ['default-embed'],
    }),
    taskType: undefined,
  },
  image({
    modelId: 'titan-image-v2',
    providerSlug: 'bedrock',
    providerModelId: 'amazon.titan-image-generator-v2:0',
    name: 'Amazon Titan Image Generator V2',
    version: 'v2',
    description: 'Priced per standard 1024 × 1024 image',
    pricing: { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: usd(0.01) },
    tags: ['amazon'],
  }),
  image({
    modelId: 'nova-canvas',
    providerSlug: 'bedrock',
    providerModelId: 'amazon.nova-canvas-v1:0',
    name: 'Amazon Nova Canvas',
    version: 'v1',
    description: 'Priced per standard 1024 × 1024 image',
    pricing: { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: usd(0.04) },
    tags: ['amazon'],
    aliases: ['default-image'],
  }),
  // Bring-your-own-key providers
  text({
    modelId: 'gpt-4o-mini',
    providerSlug: 'openai',
    providerModelId: 'gpt-4o-mini',
    name: 'GPT-4o mini',
    version: '2024-07-18',
    capabilities: [...chat, 'vision', 'tools', 'json'],
    contextWindow: 128_000,
    maxTokens: 16_384,
    pricing: { inputPerMTokMicros: usd(0.15), outputPerMTokMicros: usd(0.6) },
    tags: ['openai', 'fast'],
  }),
  text({
    modelId: 'gpt-4o',
    providerSlug: 'openai',
    providerModelId: 'gpt-4o',
    name: 'GPT-4o',
    version: '2024-08-06',
    capabilities: [...chat, 'vision', 'tools', 'json'],
    contextWindow: 128_000,
    maxTokens: 16_384,
    pricing: { inputPerMTokMicros: usd(2.5), outputPerMTokMicros: usd(10) },
    tags: ['openai'],
  }),
  {
    ...text({
      modelId: 'text-embedding-3-small',
      providerSlug: 'openai',
      providerModelId: 'text-embedding-3-small',
      name: 'OpenAI text-embedding-3-small',
      capabilities: ['embeddings'],
      contextWindow: 8191,
      pricing: { inputPerMTokMicros: usd(0.02), outputPerMTokMicros: 0 },
      tags: ['openai', 'embeddings'],
    }),
    taskType: undefined,
  },
  text({
    modelId: 'claude-3-5-haiku',
    providerSlug: 'anthropic',
    providerModelId: 'claude-3-5-haiku-latest',
    name: 'Claude 3.5 Haiku (Anthropic API)',
    capabilities: [...chat, 'tools'],
    contextWindow: 200_000,
    maxTokens: 8192,
    pricing: { inputPerMTokMicros: usd(0.8), outputPerMTokMicros: usd(4) },
    tags: ['anthropic'],
  }),
  text({
    modelId: 'gemini-1-5-flash',
    providerSlug: 'google',
    providerModelId: 'gemini-1.5-flash',
    name: 'Gemini 1.5 Flash',
    capabilities: [...chat, 'vision', 'json'],
    contextWindow: 1_000_000,
    maxTokens: 8192,
    pricing: { inputPerMTokMicros: usd(0.075), outputPerMTokMicros: usd(0.3) },
    tags: ['google', 'fast'],
  }),
  // Local development: small non-zero prices, so metering shows up locally.
  text({
    modelId: 'local-chat',
    providerSlug: 'local',
    providerModelId: 'local-chat',
    name: 'Local chat (development)',
    description: 'A deterministic local model; answers are labelled local',
    capabilities: chat,
    contextWindow: 32_000,
    maxTokens: 4096,
    pricing: { inputPerMTokMicros: usd(0.1), outputPerMTokMicros: usd(0.2) },
    tags: ['local'],
  }),
  {
    ...text({
      modelId: 'local-embed',
      providerSlug: 'local',
      providerModelId: 'local-embed',
      name: 'Local embeddings (development)',
      capabilities: ['embeddings'],
      contextWindow: 8192,
      pricing: { inputPerMTokMicros: usd(0.01), outputPerMTokMicros: 0 },
      tags: ['local', 'embeddings'],
    }),
    taskType: undefined,
  },
  image({
    modelId: 'local-image',
    providerSlug: 'local',
    providerModelId: 'local-image',
    name: 'Local images (development)',
    pricing: { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: usd(0.001) },
    tags: ['local'],
  }),
];

export const DEFAULT_MODELS: Record<string, Model> = Object.fromEntries(
  list.map((m) => [m.modelId, Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as unknown as Model]),
);
