import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamRecord } from '@platform/domain/billing/notifications';
import { logger } from '@platform/http/observability';
import { lazy } from '@platform/domain/shared/lazy';

const loadNotifications = lazy(() => import('@platform/domain/billing/notifications'));

/**
 * The table's stream, filtered to credit accounts, subscriptions and payments: billing's
 * notifications (low balance, payment received or failed, subscription changed). Reports the
 * first failed record so that Lambda retries from it (ReportBatchItemFailures).
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { notifyFromStream } = await loadNotifications();
  const { batchItemFailures, error } = await notifyFromStream(event.Records as StreamRecord[]);
  if (error)
    logger.error('A billing notification failed; the batch is retried from it', { error: error as Error, batchItemFailures });
  return { batchItemFailures };
};
