import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as lib from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { DocumentClient } from './documents.ts';

/**
 * The same commands through lib-dynamodb's document client and through ours, each on a real
 * DynamoDBClient whose HTTP handler records the request body and answers a canned DynamoDB
 * response: both must send the same JSON and answer the same output.
 */
function fakeDynamo(cacheMiddleware: boolean) {
  const sent: Array<{ target: string; body: unknown }> = [];
  let answer: unknown = {};
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    cacheMiddleware,
    requestHandler: {
      handle: async (request: { headers: Record<string, string>; body: string | Uint8Array }) => {
        const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
        sent.push({ target: request.headers['x-amz-target'] ?? '', body: JSON.parse(text) });
        const body = Readable.from([Buffer.from(JSON.stringify(answer))]);
        return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body } };
      },
    } as never,
  });
  return { client, sent, answerWith: (output: unknown) => (answer = output) };
}

const marshalling = { removeUndefinedValues: true, convertEmptyValues: false };

function pair() {
  const theirs = fakeDynamo(false);
  const ours = fakeDynamo(true);
  return {
    theirs: { ...theirs, documents: lib.DynamoDBDocumentClient.from(theirs.client, { marshallOptions: marshalling }) },
    ours: { ...ours, documents: new DocumentClient(ours.client, marshalling) },
  };
}

const item = {
  pk: 'org#1',
  sk: 'member#2',
  count: 42,
  ratio: 0.5,
  active: true,
  nothing: null,
  gone: undefined,
  tags: new Set(['a', 'b']),
  sizes: new Set([1, 2]),
  blob: new Uint8Array([1, 2, 3]),
  nested: { list: [1, 'two', { three: 3 }], empty: {}, maybe: undefined },
  emptyList: [],
};
const key = { pk: 'org#1', sk: 'member#2' };
const values = { ':n': 1, ':s': 'x', ':l': ['a', 1], ':m': { a: 1 }, ':null': null };
const Table = 'platform';

const cases: Array<{ name: string; command: () => any; output: Record<string, unknown> }> = [
  {
    name: 'Get',
    command: () => new lib.GetCommand({ TableName: Table, Key: key }),
    output: { Item: marshall(item, marshalling) },
  },
  {
    name: 'Put',
    command: () =>
      new lib.PutCommand({
        TableName: Table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk) OR #c < :n',
        ExpressionAttributeNames: { '#c': 'count' },
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    output: { Attributes: marshall(item, marshalling) },
  },
  {
    name: 'Update',
    command: () =>
      new lib.UpdateCommand({
        TableName: Table,
        Key: key,
        UpdateExpression: 'SET a = :s, b = :l, c = :m, d = :null ADD n :n',
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    output: { Attributes: marshall({ ...key, a: 'x', n: 2 }) },
  },
  {
    name: 'Delete',
    command: () => new lib.DeleteCommand({ TableName: Table, Key: key, ReturnValues: 'ALL_OLD' }),
    output: { Attributes: marshall(key) },
  },
  {
    name: 'Query',
    command: () =>
      new lib.QueryCommand({
        TableName: Table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'pk = :s AND sk > :n',
        ExpressionAttributeValues: values,
        ExclusiveStartKey: key,
        Limit: 2,
      }),
    output: { Items: [marshall(item, marshalling), marshall(key)], Count: 2, ScannedCount: 2, LastEvaluatedKey: marshall(key) },
  },
  {
    name: 'Scan',
    command: () =>
      new lib.ScanCommand({
        TableName: Table,
        ExclusiveStartKey: key,
        FilterExpression: 'n > :n',
        ExpressionAttributeValues: { ':n': 1 },
      }),
    output: { Items: [marshall(key)], Count: 1, LastEvaluatedKey: marshall(key) },
  },
  {
    name: 'BatchGet',
    command: () => new lib.BatchGetCommand({ RequestItems: { [Table]: { Keys: [key, { pk: 'org#2', sk: 'x' }] } } }),
    output: {
      Responses: { [Table]: [marshall(item, marshalling)] },
      UnprocessedKeys: { [Table]: { Keys: [marshall({ pk: 'org#2', sk: 'x' })] } },
    },
  },
  {
    name: 'BatchWrite',
    command: () =>
      new lib.BatchWriteCommand({ RequestItems: { [Table]: [{ PutRequest: { Item: item } }, { DeleteRequest: { Key: key } }] } }),
    output: { UnprocessedItems: { [Table]: [{ DeleteRequest: { Key: marshall(key) } }] } },
  },
  {
    name: 'TransactGet',
    command: () =>
      new lib.TransactGetCommand({
        TransactItems: [{ Get: { TableName: Table, Key: key } }, { Get: { TableName: Table, Key: { pk: 'b', sk: 'c' } } }],
      }),
    output: { Responses: [{ Item: marshall(item, marshalling) }, {}] },
  },
  {
    name: 'TransactWrite',
    command: () =>
      new lib.TransactWriteCommand({
        ClientRequestToken: 'token-1',
        TransactItems: [
          { Put: { TableName: Table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Update: { TableName: Table, Key: key, UpdateExpression: 'ADD n :n', ExpressionAttributeValues: { ':n': -3 } } },
          { Delete: { TableName: Table, Key: { pk: 'x', sk: 'y' } } },
          {
            ConditionCheck: {
              TableName: Table,
              Key: key,
              ConditionExpression: 'n >= :n',
              ExpressionAttributeValues: { ':n': 0 },
            },
          },
        ],
      }),
    output: {},
  },
];

describe('the document client', () => {
  it.each(cases)('sends $name as lib-dynamodb does, and answers the same output', async ({ command, output }) => {
    const { theirs, ours } = pair();
    theirs.answerWith(output);
    ours.answerWith(output);
    const expected = await theirs.documents.send(command());
    const actual = await ours.documents.send(command());
    expect(ours.sent).toEqual(theirs.sent);
    expect(ours.sent).toHaveLength(1);
    const { $metadata: _a, ...answered } = actual as Record<string, unknown>;
    const { $metadata: _b, ...wanted } = expected as Record<string, unknown>;
    expect(answered).toEqual(wanted);
  });

  it('sends each command’s own input with the cached handler (lib-dynamodb’s own client would resend the first)', async () => {
    const { ours } = pair();
    ours.answerWith({ Item: marshall({ pk: 'a', sk: 'b' }) });
    await ours.documents.send(new lib.GetCommand({ TableName: Table, Key: { pk: 'a', sk: '1' } }));
    await ours.documents.send(new lib.GetCommand({ TableName: Table, Key: { pk: 'a', sk: '2' } }));
    await ours.documents.send(new lib.PutCommand({ TableName: Table, Item: { pk: 'a', sk: '3' } }));
    expect(ours.sent.map((s) => s.body)).toEqual([
      { TableName: Table, Key: { pk: { S: 'a' }, sk: { S: '1' } } },
      { TableName: Table, Key: { pk: { S: 'a' }, sk: { S: '2' } } },
      { TableName: Table, Item: { pk: { S: 'a' }, sk: { S: '3' } } },
    ]);
    expect(ours.sent.map((s) => s.target)).toEqual([
      'DynamoDB_20120810.GetItem',
      'DynamoDB_20120810.GetItem',
      'DynamoDB_20120810.PutItem',
    ]);
  });

  it('shows observers each request in native values, and a throwing observer stops it before it is sent', async () => {
    const { ours } = pair();
    const seen: unknown[] = [];
    const stop = ours.documents.observe((request) => seen.push(request));
    await ours.documents.send(
      new lib.UpdateCommand({ TableName: Table, Key: key, UpdateExpression: 'ADD n :n', ExpressionAttributeValues: { ':n': 1 } }),
    );
    expect(seen).toEqual([{ operation: 'UpdateItem', input: expect.objectContaining({ Key: key }) }]);

    const refuse = ours.documents.observe(() => {
      throw new Error('refused');
    });
    await expect(ours.documents.send(new lib.GetCommand({ TableName: Table, Key: key }))).rejects.toThrow('refused');
    expect(ours.sent).toHaveLength(1);
    refuse();
    stop();
    await ours.documents.send(new lib.GetCommand({ TableName: Table, Key: key }));
    expect(seen).toHaveLength(2);
    expect(ours.sent).toHaveLength(2);
  });

  it("sends without the SDK's logger middleware, whose filtering of every request and answer feeds no logger", async () => {
    const { ours } = pair();
    const logged: unknown[] = [];
    ours.client.config.logger = { debug() {}, info: (entry: unknown) => logged.push(entry), warn() {}, error() {} } as never;
    ours.answerWith({ Item: marshall(key) });
    expect(await ours.documents.send(new lib.GetCommand({ TableName: Table, Key: key }))).toMatchObject({ Item: key });
    expect(logged).toEqual([]);
  });

  it('refuses a client that would resolve its middleware per request', () => {
    expect(() => new DocumentClient(fakeDynamo(false).client)).toThrow(/cacheMiddleware/);
  });
});
