import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * What the consumers of the table's stream share: the record shape, an item's image as
 * ElectroDB wrote it, and the filter pattern that keeps one entity's changes. The stream
 * carries new and old images; each consumer's event source mapping (deployed, and the local
 * stream alike) applies its filter, and its handler reads only the records it was given.
 */
export const ENTITY_ATTRIBUTE = '__edb_e__';

/** The shape of a stream record that matters here (Lambda's `DynamoDBRecord`). */
export interface StreamRecord {
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | string;
  dynamodb?: {
    NewImage?: Record<string, unknown>;
    OldImage?: Record<string, unknown>;
    SequenceNumber?: string;
  };
}

/** A Lambda filter pattern (DynamoDB JSON leaves: `{ S: [...] }`), as the event source mapping takes it. */
export type StreamFilter = { dynamodb: Record<string, unknown> };

export type Image<T = Record<string, unknown>> = T & { [ENTITY_ATTRIBUTE]?: string };

/** An item's image, unmarshalled; undefined when the record has none (no old image of an insert). */
export const imageOf = <T = Record<string, unknown>>(raw: Record<string, unknown> | undefined): Image<T> | undefined =>
  raw ? (unmarshall(raw as Record<string, AttributeValue>) as Image<T>) : undefined;

/** Keeps the changes of these entities, by the image that names them (the new one, or the old one of a removal). */
export const entityFilter = (image: 'NewImage' | 'OldImage', entities: readonly string[]): StreamFilter => ({
  dynamodb: { [image]: { [ENTITY_ATTRIBUTE]: { S: [...entities] } } },
});
