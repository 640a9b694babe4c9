import { createHash, randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT, localLambdaContext } from './lambda-context.ts';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

/** A Lambda function subscribed to a queue, as with an SQS event source mapping. */
export type QueueWorker = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void> | SQSBatchResponse | void;

export interface QueueWorkerOptions {
  /** Records per invocation (the event source mapping's `batchSize`); 10 as on AWS. */
  batchSize?: number;
  /** Receives before a message moves to the dead-letter list (the redrive policy's `maxReceiveCount`); 5 as for the work queue. */
  maxReceiveCount?: number;
  /** Before a failed message is delivered again (stands in for the visibility timeout); 0 ms. */
  retryDelayMs?: number;
}

/** Message attributes to send: strings and numbers, typed `String` and `Number` as SQS types them. */
export type LocalMessageAttributes = Record<string, string | number>;

export interface DeadLetter {
  messageId: string;
  body: string;
  messageAttributes: SQSMessageAttributes;
  receiveCount: number;
  /** Why the last delivery failed: the worker's error, or that it reported the message in `batchItemFailures`. */
  reason: string;
}

/** Sends one message; the shape a domain port for queues can take (`sendToLocalQueue`). */
export type QueueSender = (queue: string, body: string, attributes?: LocalMessageAttributes) => Promise<{ messageId: string }>;

interface Message {
  messageId: string;
  body: string;
  messageAttributes: SQSMessageAttributes;
  sentAt: number;
  firstReceivedAt?: number;
  receiveCount: number;
}

interface Queue {
  name: string;
  ready: Message[];
  /** Messages being delivered or waiting out `retryDelayMs`. */
  inFlight: number;
  worker?: { handler: QueueWorker; options: Required<QueueWorkerOptions> };
  deadLetters: DeadLetter[];
}

/**
 * SQS with its Lambda trigger, in this process. No emulator runs the event source mapping,
 * so this adapter is both: `send` enqueues, and each queue with a worker receives batches
 * shaped as Lambda receives them, asynchronously. Partial batch responses are honoured
 * (deploy the worker's event source mapping with `reportBatchItemFailures: true` to match),
 * a thrown error fails the whole batch, and a message that fails `maxReceiveCount` times
 * moves to the queue's dead-letter list. Like a standard queue, it does not keep order: a
 * retried message goes to the back.
 */
export class LocalQueues {
  readonly region: string;
  private readonly queues = new Map<string, Queue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private idleWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private stopped = false;

  constructor(options: { region?: string } = {}) {
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  }

  /** Subscribes the worker to the queue: what the deployed event source mapping does. */
  register(queue: string, handler: QueueWorker, options: QueueWorkerOptions = {}): void {
    const target = this.queue(queue);
    if (target.worker) throw new Error(`Queue ${target.name} already has a worker`);
    const batchSize = options.batchSize ?? 10;
    const maxReceiveCount = options.maxReceiveCount ?? 5;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
      throw new Error(`batchSize must be 1–10000, got ${batchSize}`);
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1)
      throw new Error(`maxReceiveCount must be a positive integer, got ${maxReceiveCount}`);
    target.worker = { handler, options: { batchSize, maxReceiveCount, retryDelayMs: options.retryDelayMs ?? 0 } };
    this.schedule(target);
  }

  /**
   * Enqueues a message; `queue` is a name or a queue URL. Returns at once, as SendMessage
   * does; the worker receives it on a later turn of the event loop. Objects are sent as JSON.
   */
  async send(queue: string, body: string | object, attributes: LocalMessageAttributes = {}): Promise<{ messageId: string }> {
    if (this.stopped) throw new Error('The local queues are stopped');
    const target = this.queue(queue);
    const message: Message = {
      messageId: randomUUID(),
      body: typeof body === 'string' ? body : JSON.stringify(body),
      messageAttributes: toMessageAttributes(attributes),
      sentAt: Date.now(),
      receiveCount: 0,
    };
    target.ready.push(message);
    this.schedule(target);
    return { messageId: message.messageId };
  }

  /** Messages that failed `maxReceiveCount` deliveries, oldest first. */
  deadLetters(queue: string): DeadLetter[] {
    return [...(this.queues.get(queueName(queue))?.deadLetters ?? [])];
  }

  /** Messages waiting for delivery (on a queue without a worker, they wait for `register`). */
  pending(queue: string): number {
    const target = this.queues.get(queueName(queue));
    return target ? target.ready.length + target.inFlight : 0;
  }

  /**
   * Resolves when every queue that has a worker is empty: nothing waiting, being delivered
   * or waiting to be retried. Rejects after `timeoutMs` (a worker that never settles).
   */
  drain(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('The local queues are stopped'));
    if (this.idle()) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
        const busy = [...this.queues.values()].filter((q) => q.worker && q.ready.length + q.inFlight > 0);
        reject(
          new Error(
            `Queues not drained after ${timeoutMs} ms: ${busy.map((q) => `${q.name} (${q.ready.length + q.inFlight})`).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.idleWaiters.push(waiter);
    });
  }

  /** Stops delivering; messages still waiting are dropped and `drain` rejects. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((waiter) => waiter.reject(new Error('The local queues were stopped before they drained')));
  }

  /** The ARN the event source mapping reports in each record. */
  queueArn(queue: string): string {
    return `arn:aws:sqs:${this.region}:${LOCAL_ACCOUNT}:${queueName(queue)}`;
  }

  private queue(queue: string): Queue {
    const name = queueName(queue);
    let target = this.queues.get(name);
    if (!target) {
      target = { name, ready: [], inFlight: 0, deadLetters: [] };
      this.queues.set(name, target);
    }
    return target;
  }

  private idle(): boolean {
    return [...this.queues.values()].every((q) => !q.worker || q.ready.length + q.inFlight === 0);
  }

  private settle(): void {
    if (!this.idle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((waiter) => waiter.resolve());
  }

  /** Delivers on a later turn, so that messages sent together arrive in one batch. */
  private schedule(queue: Queue): void {
    if (!queue.worker || !queue.ready.length || this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.deliver(queue);
    }, 0);
    this.timers.add(timer);
  }

  private async deliver(queue: Queue): Promise<void> {
    const worker = queue.worker;
    if (!worker || this.stopped) return;
    const batch = queue.ready.splice(0, worker.options.batchSize);
    if (!batch.length) return;
    queue.inFlight += batch.length;
    const now = Date.now();
    const records = batch.map((message) => {
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      return this.record(queue.name, message);
    });

    let failed: Map<string, string>;
    try {
      const response = await worker.handler({ Records: records }, localLambdaContext(`${queue.name}-worker`, this.region));
      failed = failedItems(batch, response);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      failed = new Map(batch.map((m) => [m.messageId, reason]));
    }

    for (const message of batch) {
      const reason = failed.get(message.messageId);
      if (reason === undefined) {
        queue.inFlight -= 1;
      } else if (message.receiveCount >= worker.options.maxReceiveCount) {
        queue.inFlight -= 1;
        queue.deadLetters.push({
          messageId: message.messageId,
          body: message.body,
          messageAttributes: message.messageAttributes,
          receiveCount: message.receiveCount,
          reason,
        });
      } else {
        this.retry(queue, message, worker.options.retryDelayMs);
      }
    }
    this.schedule(queue);
    this.settle();
  }

  private retry(queue: Queue, message: Message, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      queue.inFlight -= 1;
      queue.ready.push(message);
      this.schedule(queue);
    }, delayMs);
    this.timers.add(timer);
  }

  private record(queue: string, message: Message): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: Buffer.from(`${queue}:${message.messageId}:${randomUUID()}`).toString('base64'),
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'LOCAL',
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
      },
      messageAttributes: message.messageAttributes,
      md5OfBody: createHash('md5').update(message.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.queueArn(queue),
      awsRegion: this.region,
    };
  }
}

/**
 * The sender the domain can be given in local mode (as `setMailTransport` is given the
 * outbox): on AWS the same port sends with `SendMessageCommand` to the queue URL.
 */
export function sendToLocalQueue(queues: LocalQueues): QueueSender {
  return (queue, body, attributes) => queues.send(queue, body, attributes);
}

/** `https://sqs.us-east-1.amazonaws.com/123456789012/work` → `work`; a name stays a name. */
export function queueName(queue: string): string {
  const name = queue.includes('/') ? queue.slice(queue.lastIndexOf('/') + 1) : queue;
  if (!name) throw new Error(`Not a queue name or URL: "${queue}"`);
  return name;
}

/**
 * The failed message ids of a partial batch response. As on AWS, a response that names a
 * message outside the batch (or names none by an empty id) fails the whole batch.
 */
function failedItems(batch: Message[], response: SQSBatchResponse | void): Map<string, string> {
  const failures = response?.batchItemFailures ?? [];
  const ids = new Set(batch.map((m) => m.messageId));
  const invalid = failures.find((f) => !f?.itemIdentifier || !ids.has(f.itemIdentifier));
  if (invalid) {
    const reason = `batchItemFailures names an unknown message: ${JSON.stringify(invalid?.itemIdentifier ?? null)}`;
    return new Map(batch.map((m) => [m.messageId, reason]));
  }
  return new Map(failures.map((f) => [f.itemIdentifier, 'reported in batchItemFailures']));
}

function toMessageAttributes(attributes: LocalMessageAttributes): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      typeof value === 'number'
        ? { stringValue: String(value), stringListValues: [], binaryListValues: [], dataType: 'Number' }
        : { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' },
    ]),
  );
}

export { localLambdaContext };
