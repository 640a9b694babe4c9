import * as z from 'zod';
import { page, pageQuery } from '../../shared/schemas.ts';
import { storedJsonObject } from '../../shared/json-value.ts';
import { CONFIG_FAMILIES, CONFIG_KEY_PATTERN } from '../enums.ts';

/** Admin config and the platform's audit log. */
export const configParams = z.object({
  configKey: z
    .string()
    .regex(
      CONFIG_KEY_PATTERN,
      '`routing_agent`, or `chat_agent_<provider>`, `artifact_agent_<provider>`, `git_mcp_agent_<provider>`',
    ),
});
/** Validated per key family in the domain (admin-config.ts). */
export const saveConfigBody = storedJsonObject().describe('The config: its shape depends on the key family');
export const configResponse = z.object({
  configKey: z.string(),
  family: z.enum(CONFIG_FAMILIES),
  data: z.record(z.string(), z.unknown()),
  isDefault: z.boolean().describe('The default in code: never saved'),
  version: z.number(),
  updatedBy: z.string().optional(),
  updatedAt: z.string().optional(),
  createdAt: z.string().optional(),
});
export const configsList = z.object({ items: z.array(configResponse) });
