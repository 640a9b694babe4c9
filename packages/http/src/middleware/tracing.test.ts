import { createSocket, type Socket } from 'node:dgram';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traced, tracing } from './tracing.ts';

/**
 * The Powertools Tracer as Lambda runs it, on this machine: the environment Lambda gives a
 * function with active tracing, and a UDP socket on loopback standing in for the X-Ray daemon
 * (`AWS_XRAY_DAEMON_ADDRESS`), so that what the tracer would send to X-Ray is seen here and
 * nothing leaves the machine. Outside Lambda (no `AWS_EXECUTION_ENV`) the tracer turns itself
 * off, and the local cloud sets `POWERTOOLS_TRACE_ENABLED=false`: both are undone here, for
 * this test file's process only.
 */
let daemon: Socket;
let daemonClosed = false;
const received: Array<Record<string, any>> = [];

const LAMBDA_ENV = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  LAMBDA_TASK_ROOT: '/var/task',
  AWS_LAMBDA_FUNCTION_NAME: 'platform-dev-getMe',
  _HANDLER: 'index.handler',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  POWERTOOLS_SERVICE_NAME: 'identity',
  POWERTOOLS_TRACE_ENABLED: 'true',
};

beforeAll(async () => {
  daemon = createSocket('udp4');
  // Each datagram is a header line and a segment document.
  daemon.on('message', (message) => received.push(JSON.parse(message.toString('utf8').split('\n')[1]!)));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  Object.assign(process.env, LAMBDA_ENV, { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}` });
});

afterAll(() => {
  if (daemon && !daemonClosed) daemon.close();
});

const context = { functionName: 'platform-dev-getMe', awsRequestId: 'req-1' } as Context;
const event = { rawPath: '/v1/me' } as APIGatewayProxyEventV2;

async function handlerSegment(after: number) {
  for (let waited = 0; waited < 10_000; waited += 20) {
    const segment = received.slice(after).find((s) => s.name === '## index.handler');
    if (segment) return segment;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`No handler subsegment reached the daemon; it got ${JSON.stringify(received)}`);
}

describe('the tracing middleware', () => {
  it('is not in the stack unless TRACING=powertools', () => {
    delete process.env.TRACING;
    expect(tracing()).toBeUndefined();
  });

  it('with TRACING=powertools, wraps the handler in the Powertools Tracer: a subsegment with cold start and service, without the response', async () => {
    process.env.TRACING = 'powertools';
    const middleware = tracing();
    expect(middleware).toBeDefined();
    const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(middleware!)
      .handler(async () => ({ statusCode: 201, body: '{"clientId":"ak_1","key":"ak_1.secret-shown-once"}' }));

    expect(await handler(event, context)).toEqual({
      statusCode: 201,
      body: '{"clientId":"ak_1","key":"ak_1.secret-shown-once"}',
    });
    const first = await handlerSegment(0);
    expect(first).toMatchObject({
      trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      parent_id: '53995c3f42cd8ad8',
      annotations: { ColdStart: true, Service: 'identity' },
    });
    // A response may hold what a route shows once (a key, tokens): X-Ray stores it as sent.
    expect(JSON.stringify(first)).not.toContain('secret-shown-once');
    expect(first.metadata?.identity?.['index.handler response']).toBeUndefined();
    expect(first.end_time).toBeGreaterThanOrEqual(first.start_time);

    const seen = received.length;
    await handler(event, context);
    expect((await handlerSegment(seen)).annotations).toEqual({ ColdStart: false, Service: 'identity' });
  });

  it('traces a handler that is not a route’s (a job, a stream consumer) only with TRACING=powertools', async () => {
    const job = async () => ({ renewed: 1 });
    delete process.env.TRACING;
    expect(traced(job)).toBe(job);
    process.env.TRACING = 'powertools';
    const seen = received.length;
    expect(await traced(job)({}, context)).toEqual({ renewed: 1 });
    expect(await handlerSegment(seen)).toMatchObject({ annotations: { Service: 'identity' } });
  });

  it('records a failure on the subsegment and lets the error through, with no daemon listening', async () => {
    process.env.TRACING = 'powertools';
    const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(tracing()!)
      .handler(async () => {
        throw new Error('The table is gone');
      });
    const seen = received.length;
    await expect(handler(event, context)).rejects.toThrow('The table is gone');
    const failed = await handlerSegment(seen);
    expect(failed).toMatchObject({
      fault: true,
      cause: { exceptions: [expect.objectContaining({ message: 'The table is gone' })] },
    });

    // UDP to X-Ray is fire and forget: without a daemon, the invocation neither waits nor fails.
    await new Promise<void>((resolve) => daemon.close(() => resolve()));
    daemonClosed = true;
    const answer = await middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(tracing()!)
      .handler(async () => ({ statusCode: 204 }))(event, context);
    expect(answer).toEqual({ statusCode: 204 });
  });
});
