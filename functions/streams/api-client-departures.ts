import { revokeKeysOfDeparted } from '@platform/domain/identity/departures';
import { streamConsumer } from '@platform/http/stream-consumer';

/**
 * The table's stream, filtered to memberships and deleted users: the API clients of a member
 * who left are revoked (see packages/domain/src/identity/departures.ts).
 */
export const handler = streamConsumer('API client departures', revokeKeysOfDeparted);
