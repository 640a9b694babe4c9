import * as z from 'zod';
import { MODEL_TYPES } from '../../gateway/types.ts';
import { isInternalAddress } from '../../shared/addresses.ts';
import { storableKey } from '../../shared/json-value.ts';
import { idOf } from '../../shared/schemas.ts';
import { CAPABILITIES, STATUSES } from '../enums.ts';

/** Ids, names and small fields the hub's schemas share. */

/** A key of the stored provider catalogue and of a credential owner's defaults (providers.ts, credentials.ts). */
export const providerSlug = storableKey(z.string().regex(/^[a-z][a-z0-9-]{1,31}$/, 'A lower-case provider slug like `openai`'));
/** Catalogue model ids are readable slugs (`claude-3-haiku`); custom models get `mdl_…` ids. */
export const catalogueModelId = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,63}$/, 'A lower-case model id like `claude-3-haiku`');
export const customModelId = idOf('mdl');
export const modelId = z.union([customModelId, catalogueModelId]);
export const credentialId = idOf('pcr');
export const ruleId = idOf('rtr');
export const alias = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{0,63}$/, 'A lower-case alias like `fast` (letters, digits, dots, dashes)');
export const tag = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, 'A lower-case tag');
export const modelType = z.enum(MODEL_TYPES);
export const status = z.enum(STATUSES);
export const capability = z.enum(CAPABILITIES);
export const planId = storableKey(z.string().regex(/^[a-z][a-z0-9-]{1,31}$/, 'A plan id like `pro`'));
/** What a client may name: a model id, a provider's model id (`anthropic.claude-3-haiku-20240307-v1:0`) or an alias. */
export const modelReference = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/, 'A model id, provider model id or alias');

/** `?flag=true|false` */
export const queryFlag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Loopback, private, link-local (cloud metadata), carrier-grade NAT, unspecified, and the names of local networks. */
function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local')) return true;
  return isInternalAddress(host);
}

const isLoopback = (hostname: string) => ['localhost', '127.0.0.1', '[::1]', '::1'].includes(hostname.toLowerCase());

/**
 * A provider's base URL, which the gateway will call from inside the platform: HTTPS to a
 * public host, no credentials in it. Only the local cloud accepts plain HTTP to loopback
 * (for a fake provider in tests and dev). Keeps a key's base URL from pointing the gateway at
 * internal addresses (instance metadata, private networks); a host name is checked again where it
 * resolves, as the gateway connects (`publicAddressesOnly`).
 */
export const baseUrl = z
  .string()
  .trim()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'Not a URL' });
      return;
    }
    const localLoopback = process.env.LOCAL_CLOUD === '1' && isLoopback(url.hostname) && url.protocol === 'http:';
    if (localLoopback) return;
    if (url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'Must be an https:// URL' });
    else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'No credentials in the URL; use the key' });
    else if (isPrivateHost(url.hostname)) ctx.addIssue({ code: 'custom', message: 'Must be a public host' });
  });

/** An https URL for docs and websites (shown to users, never called). */
export const webUrl = z
  .string()
  .trim()
  .max(2048)
  .regex(/^https:\/\/[^\s]+$/, 'An https:// URL');
