import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalQueues, queueName, sendToLocalQueue, type QueueWorker } from './queues.ts';

let queues: LocalQueues;
afterEach(() => queues?.stop());

/** A worker that records every batch it receives and answers with `respond`. */
function recorder(respond: (records: SQSRecord[]) => ReturnType<QueueWorker> = () => undefined) {
  const batches: SQSRecord[][] = [];
  const worker: QueueWorker = async (event: SQSEvent) => {
    batches.push(event.Records);
    return respond(event.Records);
  };
  return { worker, batches, bodies: () => batches.flat().map((r) => r.body) };
}

describe('delivery', () => {
  it('delivers messages as the SQS event Lambda receives, after send returns', async () => {
    queues = new LocalQueues({ region: 'eu-west-1' });
    const { worker, batches } = recorder();
    queues.register('work', worker);
    const { messageId } = await queues.send('work', '{"task":"resize"}', { kind: 'image', attempt: 1 });
    expect(batches).toHaveLength(0);

    await queues.drain();
    expect(batches).toHaveLength(1);
    const [record] = batches[0]!;
    expect(record).toMatchObject({
      messageId,
      body: '{"task":"resize"}',
      md5OfBody: createHash('md5').update('{"task":"resize"}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:work',
      awsRegion: 'eu-west-1',
      attributes: { ApproximateReceiveCount: '1', SenderId: 'LOCAL' },
      messageAttributes: {
        kind: { stringValue: 'image', dataType: 'String', stringListValues: [], binaryListValues: [] },
        attempt: { stringValue: '1', dataType: 'Number', stringListValues: [], binaryListValues: [] },
      },
    });
    expect(record!.receiptHandle).toEqual(expect.any(String));
    expect(Number(record!.attributes.SentTimestamp)).toBeGreaterThan(Date.now() - 5_000);
    expect(Number(record!.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
      Number(record!.attributes.SentTimestamp),
    );
  });

  it('batches messages sent together, up to batchSize', async () => {
    queues = new LocalQueues();
    const { worker, batches, bodies } = recorder();
    queues.register('work', worker, { batchSize: 3 });
    await Promise.all(['1', '2', '3', '4', '5', '6', '7'].map((n) => queues.send('work', n)));
    await queues.drain();
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(bodies().sort()).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('accepts a queue URL for the queue and sends objects as JSON', async () => {
    queues = new LocalQueues();
    const { worker, bodies } = recorder();
    queues.register('work', worker);
    const send = sendToLocalQueue(queues);
    await send('https://sqs.us-east-1.amazonaws.com/123456789012/work', 'from a URL');
    await queues.send('work', { id: 7 });
    await queues.drain();
    expect(bodies().sort()).toEqual(['from a URL', '{"id":7}']);
    expect(queueName('http://127.0.0.1:4566/000000000000/jobs')).toBe('jobs');
  });

  it('keeps messages for a queue until its worker registers', async () => {
    queues = new LocalQueues();
    await queues.send('later', 'early message');
    await queues.drain();
    expect(queues.pending('later')).toBe(1);

    const { worker, bodies } = recorder();
    queues.register('later', worker);
    await queues.drain();
    expect(bodies()).toEqual(['early message']);
    expect(queues.pending('later')).toBe(0);
  });
});

describe('failures', () => {
  it('redelivers only the messages named in batchItemFailures', async () => {
    queues = new LocalQueues();
    const { worker, batches } = recorder((records) => ({
      batchItemFailures: records
        .filter((r) => r.body === 'flaky' && r.attributes.ApproximateReceiveCount === '1')
        .map((r) => ({ itemIdentifier: r.messageId })),
    }));
    queues.register('work', worker);
    await Promise.all(['ok-1', 'flaky', 'ok-2'].map((body) => queues.send('work', body)));
    await queues.drain();

    expect(batches.map((b) => b.map((r) => r.body))).toEqual([['ok-1', 'flaky', 'ok-2'], ['flaky']]);
    expect(batches[1]![0]!.attributes.ApproximateReceiveCount).toBe('2');
    expect(queues.deadLetters('work')).toEqual([]);
  });

  it('redelivers the whole batch when the worker throws', async () => {
    queues = new LocalQueues();
    let calls = 0;
    const { worker, batches } = recorder(() => {
      calls += 1;
      if (calls === 1) throw new Error('database unavailable');
    });
    queues.register('work', worker);
    await Promise.all(['a', 'b'].map((body) => queues.send('work', body)));
    await queues.drain();
    expect(batches.map((b) => b.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`).sort())).toEqual([
      ['a#1', 'b#1'],
      ['a#2', 'b#2'],
    ]);
  });

  it('fails the whole batch when batchItemFailures names a message outside it', async () => {
    queues = new LocalQueues();
    let calls = 0;
    const { worker, batches } = recorder(() => {
      calls += 1;
      return calls === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : undefined;
    });
    queues.register('work', worker);
    await Promise.all(['a', 'b'].map((body) => queues.send('work', body)));
    await queues.drain();
    expect(batches.map((b) => b.length)).toEqual([2, 2]);
  });

  it('moves a message to the dead-letter list after maxReceiveCount failed receives', async () => {
    queues = new LocalQueues();
    const { worker, batches } = recorder((records) => ({
      batchItemFailures: records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })),
    }));
    queues.register('work', worker, { maxReceiveCount: 3 });
    const { messageId } = await queues.send('work', 'poison', { kind: 'bad' });
    await queues.send('work', 'fine');
    await queues.drain();

    const poisonDeliveries = batches.flat().filter((r) => r.body === 'poison');
    expect(poisonDeliveries.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
    expect(queues.deadLetters('work')).toEqual([
      {
        messageId,
        body: 'poison',
        messageAttributes: { kind: expect.objectContaining({ stringValue: 'bad' }) },
        receiveCount: 3,
        reason: 'reported in batchItemFailures',
      },
    ]);
    expect(queues.pending('work')).toBe(0);
  });

  it('does not keep order: a retried message arrives after the ones sent after it', async () => {
    queues = new LocalQueues();
    const { worker, bodies } = recorder((records) => ({
      batchItemFailures: records
        .filter((r) => r.body === 'a' && r.attributes.ApproximateReceiveCount === '1')
        .map((r) => ({ itemIdentifier: r.messageId })),
    }));
    queues.register('work', worker, { batchSize: 1 });
    for (const body of ['a', 'b', 'c']) await queues.send('work', body);
    await queues.drain();
    expect(bodies()).toEqual(['a', 'b', 'c', 'a']);
  });

  it('keeps the last error of a message that always throws', async () => {
    queues = new LocalQueues();
    queues.register(
      'work',
      () => {
        throw new TypeError('cannot read body');
      },
      { maxReceiveCount: 2 },
    );
    await queues.send('work', 'x');
    await queues.drain();
    expect(queues.deadLetters('work')).toMatchObject([{ body: 'x', receiveCount: 2, reason: 'TypeError: cannot read body' }]);
  });

  it('waits retryDelayMs before redelivering', async () => {
    queues = new LocalQueues();
    const receivedAt: number[] = [];
    queues.register(
      'work',
      (event) => {
        receivedAt.push(Date.now());
        if (receivedAt.length === 1) return { batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] };
      },
      { retryDelayMs: 150 },
    );
    await queues.send('work', 'x');
    await queues.drain();
    expect(receivedAt).toHaveLength(2);
    expect(receivedAt[1]! - receivedAt[0]!).toBeGreaterThanOrEqual(140);
  });
});

describe('drain and stop', () => {
  it('rejects drain when a worker never settles', async () => {
    queues = new LocalQueues();
    queues.register('work', () => new Promise(() => undefined));
    await queues.send('work', 'x');
    await expect(queues.drain({ timeoutMs: 100 })).rejects.toThrow('Queues not drained after 100 ms: work (1)');
  });

  it('stops delivering once stopped', async () => {
    queues = new LocalQueues();
    const { worker, batches } = recorder();
    queues.register('work', worker);
    await queues.send('work', 'x');
    queues.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toHaveLength(0);
    await expect(queues.send('work', 'y')).rejects.toThrow('stopped');
  });

  it('refuses a second worker and invalid settings', () => {
    queues = new LocalQueues();
    queues.register('work', () => undefined);
    expect(() => queues.register('work', () => undefined)).toThrow('already has a worker');
    expect(() => queues.register('other', () => undefined, { batchSize: 0 })).toThrow('batchSize');
    expect(() => queues.register('third', () => undefined, { maxReceiveCount: 0 })).toThrow('maxReceiveCount');
  });
});
