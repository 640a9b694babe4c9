import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The table's stream feeding Lambda functions, as event source mappings do on AWS:
 * DynamoDB Local keeps the stream (NEW_AND_OLD_IMAGES); this polls its shards once, and for
 * each consumer keeps the records its deployed filter patterns keep (`matchesFilter`) and
 * hands them to its handler in order, in batches. A batch whose handler reports a failed
 * record is retried from that record (three times, then skipped, as a mapping with a retry
 * limit does). DynamoDB Local speaks the Streams API on its own endpoint; the SDK has no
 * client for it here, so the few calls go as JSON.
 */
export interface StreamRecordShape {
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, unknown>; OldImage?: Record<string, unknown>; SequenceNumber?: string };
}

export type StreamHandler = (records: StreamRecordShape[]) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

/** One event source mapping: its filter patterns (any may match, as on AWS) and its function's handler. */
export interface StreamConsumer {
  filters: readonly object[];
  handler: StreamHandler;
}

export interface LocalStreamOptions {
  endpoint: string;
  tableName: string;
  consumers: readonly StreamConsumer[];
  pollMs?: number;
  batchSize?: number;
}

/**
 * Whether a record matches a Lambda filter pattern, for the part of the pattern language the
 * deployed filters use: nested keys, a list of accepted values, and `{ exists: true | false }`.
 * Anything else throws, so a filter the local stream cannot honour is never silently ignored.
 */
export function matchesFilter(pattern: object, value: unknown): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const field = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (!Array.isArray(rule)) return field !== undefined && matchesFilter(rule as object, field);
    return rule.some((accepted: unknown) => {
      if (accepted === null || typeof accepted !== 'object') return field === accepted;
      const { exists, ...rest } = accepted as { exists?: unknown };
      if (typeof exists !== 'boolean' || Object.keys(rest).length)
        throw new Error(`The local stream does not apply the filter rule ${JSON.stringify(accepted)}`);
      return (field !== undefined) === exists;
    });
  });
}

export interface LocalStream {
  stop(): Promise<void>;
  /** Resolves once every record written so far has been handed over (tests, jobs). */
  settle(timeoutMs?: number): Promise<void>;
}

const MAX_ATTEMPTS = 3;
/** How often the shard list is read again (shards appear rarely; reading them on every poll cost DynamoDB Local more than the records). */
const DISCOVER_MS = 1_000;

export async function startLocalStream(options: LocalStreamOptions): Promise<LocalStream> {
  const pollMs = options.pollMs ?? 100;
  const batchSize = options.batchSize ?? 100;
  const client = new DynamoDBClient({
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { Table } = await client.send(new DescribeTableCommand({ TableName: options.tableName }));
  client.destroy();
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`Table ${options.tableName} has no stream`);

  async function call<T>(target: string, body: object): Promise<T> {
    const response = await fetch(options.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDBStreams_20120810.${target}`,
        // DynamoDB Local checks the form of a signature, not its value.
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
      },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as T & { message?: string };
    if (!response.ok) throw new Error(`DynamoDB Streams ${target}: ${json.message ?? response.status}`);
    return json;
  }

  const iterators = new Map<string, string | null>();
  const known = new Set<string>();
  let discoveredAt = 0;
  /** Set when a shard closed or a caller waits to settle: the next poll reads the shard list again. */
  let rediscover = true;
  let first = true;
  let stopped = false;
  /** When the latest poll that found nothing started: every record written before then was delivered. */
  let quietSince = 0;

  async function discover() {
    if (!rediscover && Date.now() - discoveredAt < DISCOVER_MS) return;
    rediscover = false;
    discoveredAt = Date.now();
    const { StreamDescription } = await call<{
      StreamDescription: { Shards: { ShardId: string; SequenceNumberRange?: { EndingSequenceNumber?: string } }[] };
    }>('DescribeStream', { StreamArn: streamArn });
    for (const shard of StreamDescription.Shards) {
      if (known.has(shard.ShardId)) continue;
      known.add(shard.ShardId);
      const closed = !!shard.SequenceNumberRange?.EndingSequenceNumber;
      if (first && closed) continue; // written before this run
      const { ShardIterator } = await call<{ ShardIterator: string }>('GetShardIterator', {
        StreamArn: streamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: first ? 'LATEST' : 'TRIM_HORIZON',
      });
      iterators.set(shard.ShardId, ShardIterator);
    }
    first = false;
  }

  async function deliver({ handler }: StreamConsumer, records: StreamRecordShape[]) {
    let pending = records;
    for (let attempt = 1; pending.length; attempt++) {
      const { batchItemFailures } = await handler(pending).catch(() => ({
        batchItemFailures: [{ itemIdentifier: pending[0]?.dynamodb?.SequenceNumber ?? '' }],
      }));
      const failed = batchItemFailures[0]?.itemIdentifier;
      if (failed === undefined) return;
      const from = Math.max(
        0,
        pending.findIndex((r) => r.dynamodb?.SequenceNumber === failed),
      );
      if (attempt >= MAX_ATTEMPTS) {
        console.error(`local stream: gave up on record ${failed} after ${MAX_ATTEMPTS} attempts`);
        pending = pending.slice(from + 1);
        attempt = 0;
      } else pending = pending.slice(from);
    }
  }

  async function pollOnce(): Promise<number> {
    await discover();
    let seen = 0;
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      const { Records, NextShardIterator } = await call<{ Records: StreamRecordShape[]; NextShardIterator?: string | null }>(
        'GetRecords',
        { ShardIterator: iterator, Limit: batchSize },
      );
      seen += Records.length;
      iterators.set(shardId, NextShardIterator ?? null);
      if (!NextShardIterator) rediscover = true; // the shard closed: its successor is to be found
      for (const consumer of options.consumers) {
        const batch = Records.filter((record) => consumer.filters.some((filter) => matchesFilter(filter, record)));
        if (batch.length) await deliver(consumer, batch);
      }
    }
    return seen;
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const started = Date.now();
        const seen = await pollOnce();
        if (!seen) {
          quietSince = started;
          await new Promise((resolve) => setTimeout(resolve, pollMs));
        } else if (seen < batchSize) {
          // A steady trickle is read in small batches a few times a second, not in a tight loop
          // (a mapping's batching window does the same on AWS).
          await new Promise((resolve) => setTimeout(resolve, pollMs / 4));
        }
      } catch (error) {
        if (!stopped) console.error('local stream:', error);
        await new Promise((resolve) => setTimeout(resolve, pollMs * 5));
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
    },
    async settle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const mark = Date.now();
      rediscover = true;
      while (quietSince <= mark) {
        if (Date.now() > deadline) throw new Error('The local stream did not settle');
        await new Promise((resolve) => setTimeout(resolve, pollMs / 2));
      }
    },
  };
}
