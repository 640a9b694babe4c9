import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig } from '@platform/domain/shared/aws';
import { startLocalS3, type LocalS3 } from './s3.ts';

const APP_ORIGIN = 'http://localhost:5173';

let s3: LocalS3;
let client: S3Client;
beforeAll(async () => {
  process.env.ASSETS_BUCKET = 'assets-under-test';
  s3 = await startLocalS3();
  // The client the domain builds, pointed at this S3.
  process.env.S3_ENDPOINT = s3.endpoint;
  client = new S3Client(awsClientConfig('s3'));
});
afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});

describe('the local S3', () => {
  it('listens on 127.0.0.1 and creates the assets bucket named by ASSETS_BUCKET', async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.bucket).toBe('assets-under-test');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'assets-under-test' }));
    expect(listed.KeyCount).toBe(0);
  });

  it('stores an object and returns it with its metadata', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const put = await client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: 'orgs/o1/doc.json',
        Body: body,
        ContentType: 'application/json',
        Metadata: { owner: 'u1' },
      }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);

    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'orgs/o1/doc.json' }));
    expect(head).toMatchObject({ ContentLength: body.length, ContentType: 'application/json', ETag: put.ETag });
    expect(head.Metadata).toEqual({ owner: 'u1' });

    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'orgs/o1/doc.json' }));
    expect(await got.Body!.transformToString()).toBe(body);
  });

  it('answers NotFound for a missing key', async () => {
    await expect(client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'missing' }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('lists a prefix page by page with continuation tokens', async () => {
    const keys = ['list/a', 'list/b', 'list/c', 'list/d', 'list/e'];
    await Promise.all(keys.map((Key) => client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: Key }))));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken: token }),
      );
      pages += 1;
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
  });

  it('assembles a multipart upload', async () => {
    const Key = 'datasets/big.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }));
    const first = Buffer.alloc(5 * 1024 * 1024, 1);
    const last = Buffer.from('tail');
    const parts = [];
    for (const [index, Body] of [first, last].entries()) {
      const PartNumber = index + 1;
      const { ETag } = await client.send(new UploadPartCommand({ Bucket: s3.bucket, Key, UploadId, PartNumber, Body }));
      parts.push({ ETag, PartNumber });
    }
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: s3.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key }));
    expect(head.ContentLength).toBe(first.length + last.length);
  });
});

describe('presigned URLs from a browser', () => {
  it('uploads with a presigned PUT and downloads with a presigned GET', async () => {
    const Key = 'uploads/photo.png';
    const uploadUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: s3.bucket, Key, ContentType: 'image/png' }), {
      expiresIn: 300,
    });
    expect(uploadUrl.startsWith(`${s3.endpoint}/${s3.bucket}/${Key}?`)).toBe(true);
    const bytes = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 255]);
    const uploaded = await fetch(uploadUrl, {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': 'image/png', origin: APP_ORIGIN },
    });
    expect(uploaded.status).toBe(200);
    expect(uploaded.headers.get('access-control-allow-origin')).toBe('*');
    expect(uploaded.headers.get('access-control-expose-headers')).toContain('ETag');
    expect(uploaded.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);

    const downloadUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: s3.bucket, Key }), { expiresIn: 300 });
    const downloaded = await fetch(downloadUrl, { headers: { origin: APP_ORIGIN } });
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await downloaded.arrayBuffer())).toEqual(bytes);

    const viaSdk = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key }));
    expect(await viaSdk.Body!.transformToByteArray()).toEqual(bytes);
  });

  it('answers the CORS preflight of a presigned PUT as the assets bucket rule does', async () => {
    const response = await fetch(`${s3.endpoint}/${s3.bucket}/uploads/x.png?X-Amz-Signature=abc`, {
      method: 'OPTIONS',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type,x-amz-meta-owner',
      },
    });
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'PUT, GET, HEAD',
      'access-control-allow-headers': 'content-type,x-amz-meta-owner',
      'access-control-max-age': '3000',
    });
  });

  it('refuses a preflight for a method the rule does not allow', async () => {
    const response = await fetch(`${s3.endpoint}/${s3.bucket}/uploads/x.png`, {
      method: 'OPTIONS',
      headers: { origin: APP_ORIGIN, 'access-control-request-method': 'DELETE' },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows only the configured origins when given a list', async () => {
    const strict = await startLocalS3({ bucket: 'strict', corsOrigins: [APP_ORIGIN] });
    try {
      const preflight = (origin: string) =>
        fetch(`${strict.endpoint}/strict/k`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'PUT' },
        });
      const allowed = await preflight(APP_ORIGIN);
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(allowed.headers.get('vary')).toContain('Origin');
      expect((await preflight('https://evil.example')).status).toBe(403);

      const put = await fetch(`${strict.endpoint}/strict/k`, {
        method: 'PUT',
        body: 'x',
        headers: { origin: 'https://evil.example' },
      });
      expect(put.status).toBe(200);
      expect(put.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await strict.stop();
    }
  });
});

describe('what the local S3 does not serve', () => {
  it('refuses SQS and SNS requests (queues are the in-process adapter)', async () => {
    const sqs = await fetch(`${s3.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
      body: '{}',
    });
    expect(sqs.status).toBe(404);
    expect((await fetch(`${s3.endpoint}/_fauxqs/queues`)).status).toBe(404);
  });

  it('stops listening on stop', async () => {
    const other = await startLocalS3({ bucket: 'short-lived' });
    await other.stop();
    await expect(fetch(`${other.endpoint}/short-lived`)).rejects.toThrow();
  });
});
