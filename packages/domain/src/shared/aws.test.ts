import { Readable } from 'node:stream';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { reuseSigners } from './aws.ts';

/**
 * A real DynamoDBClient whose HTTP handler records each request's Authorization header, and
 * whose signer factory counts the signers it builds.
 */
function signedClient(credentials: () => Promise<{ accessKeyId: string; secretAccessKey: string; expiration?: Date }>) {
  const authorizations: string[] = [];
  const client = new DynamoDBClient({
    region: 'eu-west-1',
    endpoint: 'http://127.0.0.1:1',
    credentials,
    requestHandler: {
      handle: async (request: { headers: Record<string, string> }) => {
        authorizations.push(request.headers.authorization ?? '');
        const body = Readable.from([Buffer.from(JSON.stringify({ TableNames: [] }))]);
        return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body } };
      },
    } as never,
  });
  const config = client.config as unknown as { signer: (scheme?: unknown) => Promise<unknown> };
  const build = config.signer;
  const built = { count: 0, failNext: false };
  config.signer = (scheme) => {
    built.count++;
    if (built.failNext) {
      built.failNext = false;
      return Promise.reject(new Error('no region'));
    }
    return build(scheme);
  };
  return { client: reuseSigners(client), authorizations, built };
}

describe('reuseSigners', () => {
  it('signs every request of a client with one signer, each request signed for the service and region', async () => {
    const { client, authorizations, built } = signedClient(async () => ({ accessKeyId: 'AKIDONE', secretAccessKey: 'one' }));
    for (let i = 0; i < 3; i++) await client.send(new ListTablesCommand({}));
    expect(built.count).toBe(1);
    expect(authorizations).toHaveLength(3);
    for (const header of authorizations)
      expect(header).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDONE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=.+, Signature=[0-9a-f]{64}$/,
      );
  });

  it('signs with the credentials the provider answers when they expire (rotated ones), not the first ones', async () => {
    // Credentials close to their expiry are asked for again at each request.
    let current = { accessKeyId: 'AKIDOLD', secretAccessKey: 'old' };
    const { client, authorizations, built } = signedClient(async () => ({
      ...current,
      expiration: new Date(Date.now() + 60_000),
    }));
    await client.send(new ListTablesCommand({}));
    current = { accessKeyId: 'AKIDNEW', secretAccessKey: 'new' };
    await client.send(new ListTablesCommand({}));
    expect(authorizations.map((a) => /Credential=(\w+)\//.exec(a)?.[1])).toEqual(['AKIDOLD', 'AKIDNEW']);
    expect(built.count).toBe(1);
  });

  it('does not keep a signer that could not be built: the next request builds one', async () => {
    const { client, built } = signedClient(async () => ({ accessKeyId: 'AKIDONE', secretAccessKey: 'one' }));
    built.failNext = true;
    await expect(client.send(new ListTablesCommand({}))).rejects.toThrow('no region');
    await client.send(new ListTablesCommand({}));
    await client.send(new ListTablesCommand({}));
    expect(built.count).toBe(2);
  });
});
