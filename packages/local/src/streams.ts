import { Agent, request } from 'node:http';
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
const DISCOVER_EVERY_MS = 1000;

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

  // One kept-alive connection for the poller: `fetch` (undici) cost about three times the CPU of
  // node:http per call, and the poller calls ten times a second for as long as the cloud runs.
  const endpoint = new URL(options.endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  function call<T>(target: string, body: object): Promise<T> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: endpoint.hostname,
          port: endpoint.port,
          method: 'POST',
          path: '/',
          agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': Buffer.byteLength(payload),
            'x-amz-target': `DynamoDBStreams_20120810.${target}`,
            // DynamoDB Local checks the form of a signature, not its value.
            authorization:
              'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            try {
              const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T & { message?: string };
              if (res.statusCode !== 200) reject(new Error(`DynamoDB Streams ${target}: ${json.message ?? res.statusCode}`));
              else resolve(json);
            } catch (error) {
              reject(error as Error);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const iterators = new Map<string, string | null>();
  const known = new Set<string>();
  let first = true;
  let stopped = false;
  /** A shard ended (it was closed and read to its end), so its child must be found before the next read. */
  let shardEnded = true;
  let discoveredAt = 0;
  /** When the latest poll that found nothing started: every record written before then was delivered. */
  let quietSince = 0;

  async function discover() {
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

  /**
   * One round over the shards: how many records it read, or Infinity when a shard ended, so that
   * the stream is not called quiet before the shard that follows it has been read. Shards are
   * listed again then, and at least every second; a shard's children appear only once it closes.
   */
  async function pollOnce(): Promise<number> {
    if (shardEnded || Date.now() - discoveredAt >= DISCOVER_EVERY_MS) {
      shardEnded = false;
      discoveredAt = Date.now();
      await discover();
    }
    let seen = 0;
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      const { Records, NextShardIterator } = await call<{ Records: StreamRecordShape[]; NextShardIterator?: string | null }>(
        'GetRecords',
        { ShardIterator: iterator, Limit: batchSize },
      );
      seen += Records.length;
      iterators.set(shardId, NextShardIterator ?? null);
      if (!NextShardIterator) shardEnded = true;
      for (const consumer of options.consumers) {
        const batch = Records.filter((record) => consumer.filters.some((filter) => matchesFilter(filter, record)));
        if (batch.length) await deliver(consumer, batch);
      }
    }
    return shardEnded ? Infinity : seen;
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
      agent.destroy();
    },
    async settle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const mark = Date.now();
      while (quietSince <= mark) {
        if (Date.now() > deadline) throw new Error('The local stream did not settle');
        await new Promise((resolve) => setTimeout(resolve, pollMs / 2));
      }
    },
  };
}
