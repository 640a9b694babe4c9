import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamRecord } from '@platform/domain/shared/streams';
import { traced } from './middleware/tracing.ts';
import { logger } from './observability.ts';

/**
 * A Lambda handler on the table's stream: the records of a batch, in order, each through
 * `handle`. The first record that fails stops the batch and is reported
 * (`ReportBatchItemFailures`: Lambda retries from it; the records before it are done), with
 * its error logged. Handlers are idempotent, so a redelivered record changes nothing twice.
 * Traced by the Powertools Tracer with `TRACING=powertools`, as the routes are.
 */
export function streamConsumer(name: string, handle: (record: StreamRecord) => Promise<void>) {
  return traced(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records as StreamRecord[]) {
      try {
        await handle(record);
      } catch (error) {
        const batchItemFailures = [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }];
        logger.error(`A record of the ${name} stream consumer failed; the batch is retried from it`, {
          error: error as Error,
          batchItemFailures,
        });
        return { batchItemFailures };
      }
    }
    return { batchItemFailures: [] };
  });
}
