import type { IncomingHttpHeaders } from 'node:http';
import { buildApp } from 'fauxqs';

export interface LocalS3Options {
  /** 0 (the default) lets the OS pick a free port. */
  port?: number;
  /** The bucket to create; defaults to ASSETS_BUCKET, then `platform-assets-local`. */
  bucket?: string;
  /**
   * Origins allowed to upload and download from a browser, as in the assets bucket's CORS
   * rule (`infra/data-stack.ts`). Defaults to any origin, like the local API.
   */
  corsOrigins?: string[];
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`; `awsClientConfig('s3')` adds `forcePathStyle` for it. */
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

/** What the hooks use of Fastify's request and reply (fastify is fauxqs' dependency, not ours). */
interface HookRequest {
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
}
interface HookReply {
  code(status: number): HookReply;
  header(name: string, value: string): HookReply;
  headers(values: Record<string, string>): HookReply;
  type(contentType: string): HookReply;
  send(payload?: string): HookReply;
}

export const DEFAULT_ASSETS_BUCKET = 'platform-assets-local';

/** The assets bucket's CORS rule (`infra/data-stack.ts`), minus the origins. */
const CORS_RULE = {
  allowedMethods: ['PUT', 'GET', 'HEAD'],
  exposedHeaders: ['ETag'],
  maxAgeSeconds: 3000,
};

/**
 * The S3 part of fauxqs, in memory, in this process, on 127.0.0.1. fauxqs serves SQS, SNS
 * and S3 from one Fastify app; this one answers S3 only (the platform's queues are the
 * in-process adapter of `queues.ts`) and adds the assets bucket's CORS rule, which fauxqs
 * does not implement, so that browsers can use presigned URLs.
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const bucket = options.bucket ?? process.env.ASSETS_BUCKET ?? DEFAULT_ASSETS_BUCKET;
  const origins = options.corsOrigins ?? ['*'];
  const app = buildApp({ logger: false });

  app.addHook('onRequest', async (request: HookRequest, reply: HookReply) => {
    const path = request.url.split('?')[0];
    // SQS and SNS post to `/`; fauxqs' inspection routes live under `/_fauxqs` (no bucket name starts with `_`).
    if ((request.method === 'POST' && path === '/') || path?.startsWith('/_fauxqs')) {
      return reply.code(404).type('text/plain').send('The local S3 serves S3 only.');
    }
    if (request.method === 'OPTIONS') {
      const answer = preflight(request.headers, origins);
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    }
  });
  app.addHook('onSend', async (request: HookRequest, reply: HookReply) => {
    const origin = request.headers.origin;
    const allowed = origin && allowedOrigin(origin, origins);
    if (!allowed || request.method === 'OPTIONS') return;
    reply.header('access-control-allow-origin', allowed);
    reply.header('access-control-expose-headers', CORS_RULE.exposedHeaders.join(', '));
    if (allowed !== '*') reply.header('vary', 'Origin');
  });

  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const { port } = app.server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;

  const created = await app.inject({ method: 'PUT', url: `/${bucket}` });
  if (created.statusCode !== 200) {
    await app.close();
    throw new Error(`Could not create the local bucket ${bucket}: ${created.statusCode} ${created.body}`);
  }

  return { endpoint, bucket, stop: () => app.close() };
}

function allowedOrigin(origin: string, origins: string[]): string | undefined {
  if (origins.includes('*')) return '*';
  return origins.includes(origin) ? origin : undefined;
}

/** Answers a CORS preflight as S3 does: 200 with the rule's headers, or 403 when no rule matches. */
function preflight(
  headers: IncomingHttpHeaders,
  origins: string[],
): { status: number; headers: Record<string, string>; body: string } {
  const origin = headers.origin;
  const method = headers['access-control-request-method'];
  const allowed = origin && allowedOrigin(origin, origins);
  if (!allowed || typeof method !== 'string' || !CORS_RULE.allowedMethods.includes(method)) {
    return {
      status: 403,
      headers: { 'content-type': 'application/xml' },
      body: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed.</Message></Error>',
    };
  }
  const requestedHeaders = headers['access-control-request-headers'];
  return {
    status: 200,
    headers: {
      'access-control-allow-origin': allowed,
      'access-control-allow-methods': CORS_RULE.allowedMethods.join(', '),
      ...(requestedHeaders ? { 'access-control-allow-headers': requestedHeaders } : {}),
      'access-control-expose-headers': CORS_RULE.exposedHeaders.join(', '),
      'access-control-max-age': String(CORS_RULE.maxAgeSeconds),
      ...(allowed === '*' ? {} : { vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method' }),
    },
    body: '',
  };
}
