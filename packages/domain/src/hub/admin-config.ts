import * as z from 'zod';
import { clock } from '../shared/clock.ts';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { put, transactWrite } from '../shared/transactions.ts';
import { hubDb, type AdminConfigItem } from './entities.ts';
import { CONFIG_KEY_PATTERN, type ConfigFamily } from './enums.ts';
import { auditWrites, type Owner } from './owners.ts';
import { providerCatalogue } from './providers.ts';
import { accountGone, accountNotDeletedCheck } from '../identity/access.ts';

/**
 * Platform-wide agent configuration (seed 004 ADMIN_CONFIG): `routing_agent`, and per
 * provider `chat_agent_<provider>`, `artifact_agent_<provider>`, `git_mcp_agent_<provider>`.
 * Each key family has its zod schema, so a saved config is always one the agents can read.
 * The seed's four keys have defaults in code (served until an admin saves one). Platform
 * admins only; every change is audited with what it was before and after.
 */

const modelRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'A model id, provider model id or alias');
/** Per-agent limits per user (seed 004 RATE_LIMIT_TRACKING: hourly and daily). */
const rateLimits = z
  .object({ hourly: z.number().int().min(0).max(1e6).optional(), daily: z.number().int().min(0).max(1e7).optional() })
  .strict();
const agentBase = {
  enabled: z.boolean(),
  model: modelRef,
  fallbackModels: z.array(modelRef).max(5).optional(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  maxTokens: z.number().int().min(1).max(200_000).optional(),
  systemPrompt: z.string().max(20_000).optional(),
  rateLimits: rateLimits.optional(),
};

export const configSchemas = {
  routing_agent: z
    .object({
      ...agentBase,
      /** What the routing agent optimises when it picks an agent and a model for a request. */
      strategy: z.enum(['rules', 'cost', 'latency', 'quality']),
      /** Agents it may hand a request to. */
      agents: z.array(z.enum(['chat', 'artifact', 'git_mcp'])).min(1),
      defaultAgent: z.enum(['chat', 'artifact', 'git_mcp']),
    })
    .strict()
    // It falls back on the default agent: one it may not hand requests to would never be used.
    .refine((c) => c.agents.includes(c.defaultAgent), { message: 'Must be one of `agents`', path: ['defaultAgent'] }),
  chat_agent: z
    .object({
      ...agentBase,
      streaming: z.boolean().optional(),
      tools: z
        .array(z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/))
        .max(50)
        .optional(),
      maxHistoryMessages: z.number().int().min(1).max(1000).optional(),
    })
    .strict(),
  artifact_agent: z
    .object({
      ...agentBase,
      /** Document kinds it may write (seed 004 DOCUMENT.kind). */
      kinds: z.array(z.enum(['text', 'code', 'image', 'sheet'])).min(1),
      maxSuggestions: z.number().int().min(0).max(100).optional(),
    })
    .strict(),
  git_mcp_agent: z
    .object({
      ...agentBase,
      access: z.enum(['read', 'read-write']),
      allowedOperations: z
        .array(
          z.enum([
            'list_repositories',
            'read_file',
            'search_code',
            'list_commits',
            'create_branch',
            'commit',
            'open_pull_request',
          ]),
        )
        .min(1),
      maxFilesPerRequest: z.number().int().min(1).max(500).optional(),
    })
    .strict(),
} satisfies Record<ConfigFamily, z.ZodType>;

export type ConfigData = z.output<(typeof configSchemas)[ConfigFamily]>;

export const DEFAULT_CONFIGS: Record<string, ConfigData> = {
  routing_agent: {
    enabled: true,
    model: 'fast',
    temperature: 0,
    maxTokens: 256,
    strategy: 'rules',
    agents: ['chat', 'artifact', 'git_mcp'],
    defaultAgent: 'chat',
    systemPrompt: 'Decide which agent should answer the request: chat, artifact or git_mcp. Answer with the agent name only.',
  },
  chat_agent_google: {
    enabled: true,
    model: 'gemini-1-5-flash',
    fallbackModels: ['default-chat'],
    temperature: 0.7,
    maxTokens: 4096,
    streaming: true,
    maxHistoryMessages: 50,
    rateLimits: { hourly: 100, daily: 1000 },
  },
  artifact_agent_google: {
    enabled: true,
    model: 'gemini-1-5-flash',
    temperature: 0.4,
    maxTokens: 8192,
    kinds: ['text', 'code', 'sheet'],
    maxSuggestions: 10,
    rateLimits: { hourly: 50, daily: 500 },
  },
  git_mcp_agent_google: {
    enabled: false,
    model: 'gemini-1-5-flash',
    temperature: 0.2,
    maxTokens: 8192,
    access: 'read',
    allowedOperations: ['list_repositories', 'read_file', 'search_code', 'list_commits'],
    maxFilesPerRequest: 20,
    rateLimits: { hourly: 30, daily: 200 },
  },
};

export function familyOf(configKey: string): ConfigFamily {
  if (!CONFIG_KEY_PATTERN.test(configKey))
    throw new ValidationError(`Unknown config key ${configKey}`, [
      {
        path: 'params.configKey',
        message: 'routing_agent, or chat_agent_<provider>, artifact_agent_<provider>, git_mcp_agent_<provider>',
      },
    ]);
  return configKey === 'routing_agent' ? 'routing_agent' : (configKey.slice(0, configKey.indexOf('_agent_') + 6) as ConfigFamily);
}

/** The provider a per-provider key is for (`chat_agent_<provider>` → `<provider>`); none for `routing_agent`. */
export function providerOfConfigKey(configKey: string): string | undefined {
  const family = familyOf(configKey);
  return family === 'routing_agent' ? undefined : configKey.slice(family.length + 1);
}

/** A per-provider key names a provider of the catalogue (inactive ones too: an admin may prepare one). */
function checkConfigProvider(configKey: string, providers: Map<string, unknown>) {
  const slug = providerOfConfigKey(configKey);
  if (slug !== undefined && !providers.has(slug))
    throw new NotFoundError(`No provider ${slug}: ${configKey} would configure an agent for a provider that does not exist`, [
      { path: 'params.configKey', message: `Unknown provider ${slug}` },
    ]);
}

export interface AdminConfig {
  configKey: string;
  family: ConfigFamily;
  data: ConfigData;
  /** Served from the defaults in code: never saved. */
  isDefault: boolean;
  version: number;
  updatedBy?: string;
  updatedAt?: string;
  createdAt?: string;
}

const view = (item: AdminConfigItem): AdminConfig => ({
  configKey: item.configKey,
  family: familyOf(item.configKey),
  data: item.data as ConfigData,
  isDefault: false,
  version: item.version,
  updatedBy: item.updatedBy,
  updatedAt: item.updatedAt,
  createdAt: item.createdAt,
});

const fromDefault = (configKey: string): AdminConfig | undefined =>
  DEFAULT_CONFIGS[configKey] && {
    configKey,
    family: familyOf(configKey),
    data: DEFAULT_CONFIGS[configKey],
    isDefault: true,
    version: 0,
  };

/** Every config: the saved ones, and the defaults of the keys never saved. One query. */
export async function listConfigs(): Promise<AdminConfig[]> {
  const { data } = await hubDb.adminConfig.query.byKey({}).go({ pages: 'all' });
  const saved = new Map(data.map((item) => [item.configKey, view(item)]));
  for (const key of Object.keys(DEFAULT_CONFIGS)) if (!saved.has(key)) saved.set(key, fromDefault(key)!);
  return [...saved.values()].sort((a, b) => a.configKey.localeCompare(b.configKey));
}

async function current(configKey: string): Promise<AdminConfig | undefined> {
  const { data } = await hubDb.adminConfig.get({ configKey }).go({ consistent: true });
  return data ? view(data) : fromDefault(configKey);
}

export async function getConfig(configKey: string): Promise<AdminConfig> {
  familyOf(configKey);
  const config = await current(configKey);
  if (!config) throw new NotFoundError(`No config ${configKey} has been saved`);
  return config;
}

/** Saves a config after validating it against its family's schema; audited with before and after. */
export async function saveConfig(owner: Owner, configKey: string, input: unknown): Promise<AdminConfig> {
  const family = familyOf(configKey);
  const parsed = configSchemas[family].safeParse(input);
  if (!parsed.success)
    throw new ValidationError(
      `Not a valid ${family} config`,
      parsed.error.issues.map((issue) => ({ path: ['body', ...issue.path.map(String)].join('.'), message: issue.message })),
    );
  const [before, providers] = await Promise.all([current(configKey), providerCatalogue()]);
  checkConfigProvider(configKey, providers);
  const version = (before?.version ?? 0) + 1;
  // Named here, not stamped by the entity: the config answered is the one stored, to the millisecond.
  const now = clock.nowIso();
  const saved = before && !before.isDefault;
  const item = { configKey, data: parsed.data, version, updatedBy: owner.actorId, updatedAt: now };
  const write = saved
    ? hubDb.adminConfig.put({ ...item, createdAt: before.createdAt }).where(({ version: v }, { eq }) => eq(v, before.version))
    : hubDb.adminConfig.create({ ...item, createdAt: now });
  const audit = auditWrites(
    owner,
    'admin-config.changed',
    { type: 'admin-config', id: configKey },
    {
      before: before?.data ?? null,
      after: parsed.data,
    },
  );
  // The admin's token outlives a deletion of their account: the write holds only while it is not deleted (no read).
  const outcome = await transactWrite([put(write), ...audit, accountNotDeletedCheck(owner.actorId)]);
  if (outcome.reasons[1 + audit.length] === 'ConditionalCheckFailed') throw accountGone();
  if (outcome.canceled) throw new ConflictError(`${configKey} changed meanwhile; retry`);
  return {
    configKey,
    family,
    data: parsed.data,
    isDefault: false,
    version,
    updatedBy: owner.actorId,
    updatedAt: now,
    createdAt: saved ? before.createdAt : now,
  };
}
