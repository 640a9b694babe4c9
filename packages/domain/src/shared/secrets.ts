import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { awsClientConfig, reuseSigners } from './aws.ts';

/**
 * Envelope encryption for secrets stored at rest (refresh tokens, provider keys, OAuth tokens).
 * Each value gets its own data key: from KMS on AWS (KMS_KEY_ID), or wrapped by a local
 * master key in dev (LOCAL_MASTER_KEY, base64, 32 bytes). The blob says which was used.
 */
const VERSION = 'v1';

interface KeyProvider {
  name: 'kms' | 'local';
  generate(context: Record<string, string>): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  unwrap(wrapped: Buffer, context: Record<string, string>): Promise<Buffer>;
}

let kms: KMSClient | undefined;
const kmsProvider: KeyProvider = {
  name: 'kms',
  async generate(context) {
    kms ??= reuseSigners(new KMSClient(awsClientConfig('kms')));
    const out = await kms.send(
      new GenerateDataKeyCommand({ KeyId: process.env.KMS_KEY_ID, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    return { plaintext: Buffer.from(out.Plaintext!), wrapped: Buffer.from(out.CiphertextBlob!) };
  },
  async unwrap(wrapped, context) {
    kms ??= reuseSigners(new KMSClient(awsClientConfig('kms')));
    const out = await kms.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: context }));
    return Buffer.from(out.Plaintext!);
  },
};

function localMasterKey(): Buffer {
  const key = Buffer.from(process.env.LOCAL_MASTER_KEY ?? '', 'base64');
  if (key.length !== 32) throw new Error('LOCAL_MASTER_KEY must be 32 bytes, base64');
  return key;
}

const localProvider: KeyProvider = {
  name: 'local',
  async generate(context) {
    const plaintext = randomBytes(32);
    return { plaintext, wrapped: seal(localMasterKey(), plaintext, aad(context)) };
  },
  async unwrap(wrapped, context) {
    return open(localMasterKey(), wrapped, aad(context));
  },
};

function provider(name?: string): KeyProvider {
  const chosen = name ?? (process.env.KMS_KEY_ID && !process.env.LOCAL_MASTER_KEY ? 'kms' : 'local');
  return chosen === 'kms' ? kmsProvider : localProvider;
}

const aad = (context: Record<string, string>) =>
  Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))));

function seal(key: Buffer, plaintext: Buffer, additional: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additional);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, additional: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(additional);
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
}

/** Encrypts `plaintext`; `context` (e.g. the owner's id) must be given again to decrypt. */
export async function encryptSecret(plaintext: string, context: Record<string, string>): Promise<string> {
  const keys = provider();
  const { plaintext: dataKey, wrapped } = await keys.generate(context);
  const sealed = seal(dataKey, Buffer.from(plaintext, 'utf8'), aad(context));
  dataKey.fill(0);
  return [VERSION, keys.name, wrapped.toString('base64url'), sealed.toString('base64url')].join('.');
}

export async function decryptSecret(blob: string, context: Record<string, string>): Promise<string> {
  const [version, name, wrapped, sealed] = blob.split('.');
  if (version !== VERSION || !wrapped || !sealed) throw new Error('Unrecognised secret format');
  const dataKey = await provider(name).unwrap(Buffer.from(wrapped, 'base64url'), context);
  try {
    return open(dataKey, Buffer.from(sealed, 'base64url'), aad(context)).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/** For high-entropy secrets (API keys, tokens) a fast hash is the right one; never for passwords. */
export const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
