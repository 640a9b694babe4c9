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

/** Dollars per million tokens (or per image) → micro-USD. */
const usd = (dollars: number) => Math.round(dollars * 1_000_000);

const model = (entry: Omit<Model, 'kind' | 'status'>): Model => ({
  kind: 'external',
  status: 'Active',
  ...entry,
});

interface TextSpec {
  version?: string;
  description?: string;
  /** Capabilities beyond chat and streaming. */
  can?: Capability[];
  contextWindow?: number;
  maxTokens?: number;
  /** Tags after the vendor's. */
  tags?: string[];
  aliases?: string[];
}

type EmbedSpec = Pick<TextSpec, 'version' | 'contextWindow' | 'aliases'>;
type ImageSpec = Pick<TextSpec, 'version' | 'description' | 'aliases'>;

/**
 * The catalogue entries of one provider, each model one call: a chat model with its
 * [input, output] dollars per million tokens, an embedding model with its input price, an
 * image model with its price per image. Every entry is tagged with its vendor first (the
 * provider, or for Bedrock the prefix of the model id: `anthropic.…`, `amazon.…`).
 */
function provider(providerSlug: string, vendorOf: (providerModelId: string) => string = () => providerSlug) {
  const base = (modelId: string, providerModelId: string, name: string, version?: string, description?: string) => ({
    modelId,
    providerSlug,
    providerModelId,
    name,
    version,
    description,
  });
  return {
    text: (modelId: string, providerModelId: string, name: string, [input, output]: [number, number], spec: TextSpec): Model =>
      model({
        type: 'TEXT',
        taskType: 'TextGeneration',
        tags: [vendorOf(providerModelId), ...(spec.tags ?? [])],
        aliases: spec.aliases ?? [],
        ...base(modelId, providerModelId, name, spec.version, spec.description),
        capabilities: ['chat', 'stream', ...(spec.can ?? [])],
        contextWindow: spec.contextWindow,
        maxTokens: spec.maxTokens,
        pricing: { inputPerMTokMicros: usd(input), outputPerMTokMicros: usd(output) },
      }),
    embed: (modelId: string, providerModelId: string, name: string, input: number, spec: EmbedSpec): Model =>
      model({
        type: 'TEXT',
        tags: [vendorOf(providerModelId), 'embeddings'],
        aliases: spec.aliases ?? [],
        ...base(modelId, providerModelId, name, spec.version),
        capabilities: ['embeddings'],
        contextWindow: spec.contextWindow,
        pricing: { inputPerMTokMicros: usd(input), outputPerMTokMicros: 0 },
      }),
    image: (modelId: string, providerModelId: string, name: string, perImage: number, spec: ImageSpec = {}): Model =>
      model({
        type: 'IMAGE',
        taskType: 'ImageGeneration',
        capabilities: ['images'],
        tags: [vendorOf(providerModelId)],
        aliases: spec.aliases ?? [],
        ...base(modelId, providerModelId, name, spec.version, spec.description),
        pricing: { inputPerMTokMicros: 0, outputPerMTokMicros: 0, perImageMicros: usd(perImage) },
      }),
  };
}

const bedrock = provider('bedrock', (providerModelId) => providerModelId.split('.')[0]!);
const openai = provider('openai');
const anthropic = provider('anthropic');
const google = provider('google');
const local = provider('local');

const perImage1024 = 'Priced per standard 1024 × 1024 image';

const list: Model[] = [
  // Amazon Bedrock
  bedrock.text('claude-3-haiku', 'anthropic.claude-3-haiku-20240307-v1:0', 'Claude 3 Haiku', [0.25, 1.25], {
    version: '20240307',
    can: ['vision', 'tools'],
    contextWindow: 200_000,
    maxTokens: 4096,
    tags: ['fast'],
    aliases: ['default-chat'],
  }),
  bedrock.text('claude-3-5-sonnet', 'anthropic.claude-3-5-sonnet-20240620-v1:0', 'Claude 3.5 Sonnet', [3, 15], {
    version: '20240620',
    can: ['vision', 'tools'],
    contextWindow: 200_000,
    maxTokens: 4096,
    tags: ['smart'],
    aliases: ['smart'],
  }),
  bedrock.text('nova-micro', 'amazon.nova-micro-v1:0', 'Amazon Nova Micro', [0.035, 0.14], {
    version: 'v1',
    can: ['tools'],
    contextWindow: 128_000,
    maxTokens: 5000,
    tags: ['fast', 'cheap'],
    aliases: ['fast'],
  }),
  bedrock.text('nova-lite', 'amazon.nova-lite-v1:0', 'Amazon Nova Lite', [0.06, 0.24], {
    version: 'v1',
    can: ['vision', 'tools'],
    contextWindow: 300_000,
    maxTokens: 5000,
    tags: ['cheap'],
  }),
  bedrock.text('nova-pro', 'amazon.nova-pro-v1:0', 'Amazon Nova Pro', [0.8, 3.2], {
    version: 'v1',
    can: ['vision', 'tools'],
    contextWindow: 300_000,
    maxTokens: 5000,
  }),
  bedrock.text('llama3-1-8b', 'meta.llama3-1-8b-instruct-v1:0', 'Llama 3.1 8B Instruct', [0.22, 0.22], {
    version: '3.1',
    contextWindow: 128_000,
    maxTokens: 2048,
    tags: ['open-weights'],
  }),
  bedrock.text('llama3-1-70b', 'meta.llama3-1-70b-instruct-v1:0', 'Llama 3.1 70B Instruct', [0.72, 0.72], {
    version: '3.1',
    can: ['tools'],
    contextWindow: 128_000,
    maxTokens: 2048,
    tags: ['open-weights'],
  }),
  bedrock.text('mistral-large', 'mistral.mistral-large-2402-v1:0', 'Mistral Large (24.02)', [4, 12], {
    version: '2402',
    can: ['tools'],
    contextWindow: 32_000,
    maxTokens: 8192,
  }),
  bedrock.embed('titan-embed-text-v2', 'amazon.titan-embed-text-v2:0', 'Amazon Titan Text Embeddings V2', 0.02, {
    version: 'v2',
    contextWindow: 8192,
    aliases: ['default-embed'],
  }),
  bedrock.image('titan-image-v2', 'amazon.titan-image-generator-v2:0', 'Amazon Titan Image Generator V2', 0.01, {
    version: 'v2',
    description: perImage1024,
  }),
  bedrock.image('nova-canvas', 'amazon.nova-canvas-v1:0', 'Amazon Nova Canvas', 0.04, {
    version: 'v1',
    description: perImage1024,
    aliases: ['default-image'],
  }),
  // Bring-your-own-key providers
  openai.text('gpt-4o-mini', 'gpt-4o-mini', 'GPT-4o mini', [0.15, 0.6], {
    version: '2024-07-18',
    can: ['vision', 'tools', 'json'],
    contextWindow: 128_000,
    maxTokens: 16_384,
    tags: ['fast'],
  }),
  openai.text('gpt-4o', 'gpt-4o', 'GPT-4o', [2.5, 10], {
    version: '2024-08-06',
    can: ['vision', 'tools', 'json'],
    contextWindow: 128_000,
    maxTokens: 16_384,
  }),
  openai.embed('text-embedding-3-small', 'text-embedding-3-small', 'OpenAI text-embedding-3-small', 0.02, {
    contextWindow: 8191,
  }),
  anthropic.text('claude-3-5-haiku', 'claude-3-5-haiku-latest', 'Claude 3.5 Haiku (Anthropic API)', [0.8, 4], {
    can: ['tools'],
    contextWindow: 200_000,
    maxTokens: 8192,
  }),
  google.text('gemini-1-5-flash', 'gemini-1.5-flash', 'Gemini 1.5 Flash', [0.075, 0.3], {
    can: ['vision', 'json'],
    contextWindow: 1_000_000,
    maxTokens: 8192,
    tags: ['fast'],
  }),
  // Local development: small non-zero prices, so metering shows up locally.
  local.text('local-chat', 'local-chat', 'Local chat (development)', [0.1, 0.2], {
    description: 'A deterministic local model; answers are labelled local',
    contextWindow: 32_000,
    maxTokens: 4096,
  }),
  local.embed('local-embed', 'local-embed', 'Local embeddings (development)', 0.01, { contextWindow: 8192 }),
  local.image('local-image', 'local-image', 'Local images (development)', 0.001),
];

export const DEFAULT_MODELS: Record<string, Model> = Object.fromEntries(
  list.map((m) => [m.modelId, Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as unknown as Model]),
);
