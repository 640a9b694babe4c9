import { notifyFromRecord } from '@platform/domain/billing/notifications';
import { streamConsumer } from '@platform/http/stream-consumer';

/**
 * The table's stream, filtered to credit accounts, subscriptions and payments: billing's
 * notifications (low balance, payment received, failed or refunded, subscription changed).
 */
export const handler = streamConsumer('billing notifications', notifyFromRecord);
