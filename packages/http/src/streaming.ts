import type { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/**
 * Lambda response streaming. On AWS the Node.js runtime provides the global `awslambda`
 * (`streamifyResponse`, `HttpResponseStream.from`); elsewhere (the local cloud, tools that import
 * handlers) this module supplies the same two calls, marking the handler exactly as the runtime
 * does, so the local server can tell a streaming handler from a buffered one and serve it by
 * writing to the socket as the handler writes.
 */
export interface ResponsePrelude {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

export type ResponseStream = Writable & { setContentType?(type: string): void };

export type StreamingHandler = (event: APIGatewayProxyEventV2, stream: ResponseStream, context: Context) => Promise<void>;

interface AwsLambdaGlobal {
  streamifyResponse(handler: StreamingHandler): StreamingHandler;
  HttpResponseStream: { from(stream: ResponseStream, prelude: ResponsePrelude): ResponseStream };
}

/** The runtime's own marker (aws-lambda-nodejs-runtime-interface-client). */
export const STREAMING_MARKER = Symbol.for('aws.lambda.runtime.handler.streaming');

/** A stream the local server hands to a streaming handler: it learns the status and headers first. */
export interface LocalResponseStream extends Writable {
  setPrelude(prelude: ResponsePrelude): void;
}

const outsideLambda: AwsLambdaGlobal = {
  streamifyResponse(handler) {
    (handler as unknown as Record<symbol, string>)[STREAMING_MARKER] = 'response';
    return handler;
  },
  HttpResponseStream: {
    from(stream, prelude) {
      (stream as unknown as Partial<LocalResponseStream>).setPrelude?.(prelude);
      return stream;
    },
  },
};

/** Other libraries put things on `awslambda` too (Powertools its InvokeStore): only the runtime's own calls count. */
const runtime = (): AwsLambdaGlobal => {
  const global = (globalThis as unknown as { awslambda?: Partial<AwsLambdaGlobal> }).awslambda;
  return typeof global?.streamifyResponse === 'function' ? (global as AwsLambdaGlobal) : outsideLambda;
};

export const streamifyResponse = (handler: StreamingHandler) => runtime().streamifyResponse(handler);

export const httpResponseStream = (stream: ResponseStream, prelude: ResponsePrelude) =>
  runtime().HttpResponseStream.from(stream, prelude);

export const isStreamingHandler = (handler: unknown): handler is StreamingHandler =>
  typeof handler === 'function' && (handler as unknown as Record<symbol, unknown>)[STREAMING_MARKER] === 'response';
