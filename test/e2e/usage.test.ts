import { beforeAll, describe, expect, it } from 'vitest';
import { USAGE_CSV_HEADER } from '@platform/domain/usage/csv';
import { aggregateDay } from '@platform/domain/usage/daily';
import type { UsageLog } from '@platform/domain/usage/entities';
import { recordUsage } from '@platform/domain/usage/logs';
import type { RecordUsageInput } from '@platform/domain/usage/schemas';
import { api, createTeam, signUpUser, type ApiResponse, type SignedInUser } from '../helpers/api.ts';

let owner: SignedInUser;
let editor: SignedInUser;
let viewer: SignedInUser;
let orgId: string;
let clientId: string;
let usageKey: string;
let otherKey: string;
const logs: Record<string, UsageLog> = {};

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const [d1, d2, d3] = [daysAgo(3), daysAgo(2), daysAgo(1)];
const QUOTED_MODEL = 'acme "turbo", v2';
const NOTE = { note: 'a, "quoted"\nline' };

/** The rows of an RFC 4180 document. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"' && (quoted || field === '')) {
      quoted = !quoted;
    } else if (quoted || (c !== ',' && c !== '\r')) {
      field += c;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else {
      expect(text[i + 1], 'lines end with CRLF').toBe('\n');
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    }
  }
  expect(field + row.join(''), 'the document ends with CRLF').toBe('');
  return rows;
}

const ids = (...names: string[]) => names.map((n) => logs[n]!.usageId);
const idsOf = (body: { items: Array<{ usageId: string }> }) => body.items.map((i) => i.usageId);
const usage = (query = '') => `/v1/orgs/${orgId}/usage${query}`;

beforeAll(async () => {
  [owner, editor, viewer] = await Promise.all([
    signUpUser('usage-owner'),
    signUpUser('usage-editor'),
    signUpUser('usage-viewer'),
  ]);
  ({ orgId } = await createTeam(owner, [
    { user: editor, role: 'editor' },
    { user: viewer, role: 'viewer' },
  ]));
  const [withUsage, without] = await Promise.all([
    api('POST', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken, body: { name: 'Reports', scopes: ['usage:read'] } }),
    api('POST', `/v1/orgs/${orgId}/api-clients`, { token: owner.accessToken, body: { name: 'Other', scopes: ['org:read'] } }),
  ]);
  clientId = withUsage.body.clientId;
  usageKey = withUsage.body.key;
  otherKey = without.body.key;

  const call = (day: string, time: string, fields: Partial<RecordUsageInput>): RecordUsageInput => ({
    orgId,
    agentType: 'chat',
    provider: 'bedrock',
    model: 'claude',
    inputTokens: 100,
    outputTokens: 20,
    inputCostMicros: 1_500,
    outputCostMicros: 2_250_000,
    requestAt: `${day}T${time}Z`,
    responseAt: `${day}T${time.replace(/:00$/, ':02')}Z`,
    status: 'success',
    ...fields,
  });
  const seed: Record<string, RecordUsageInput> = {
    o1: call(d1, '10:00:00', { userId: owner.userId, credits: 1 }),
    o2: call(d2, '10:00:00', { userId: owner.userId, agentType: 'artifact', credits: 2 }),
    e1: call(d2, '11:00:00', { userId: editor.userId, model: 'gpt-4o', provider: 'openai', credits: 4, status: 'error' }),
    k1: call(d3, '09:00:00', { apiClientId: clientId, agentType: 'generation', model: 'sdxl', credits: 8, metadata: NOTE }),
    q1: call(d3, '10:00:00', { userId: editor.userId, agentType: 'routing', model: QUOTED_MODEL, credits: 16 }),
    f1: call(d3, '11:00:00', { userId: owner.userId, model: '=cmd|calc', credits: 32, chatId: 'chat-1' }),
  };
  for (const [name, input] of Object.entries(seed)) logs[name] = await recordUsage(input, `e2e-${orgId}-${name}`);
  // Another organization's usage, by the same user, never shows here.
  await recordUsage({ ...seed.o1!, orgId: owner.personalOrgId }, `e2e-${owner.personalOrgId}-o1`);
});

describe('usage logs', () => {
  it('list the organization’s calls newest first, costs in micro-USD, without the recorder’s idempotency key', async () => {
    const res = await api('GET', usage(), { token: owner.accessToken });
    expect(res.status).toBe(200);
    expect(idsOf(res.body)).toEqual(ids('f1', 'q1', 'k1', 'e1', 'o2', 'o1'));
    expect(res.body.nextCursor).toBeNull();
    const e1 = res.body.items[3];
    expect(e1).toMatchObject({
      orgId,
      userId: editor.userId,
      agentType: 'chat',
      provider: 'openai',
      model: 'gpt-4o',
      inputTokens: 100,
      outputTokens: 20,
      totalTokens: 120,
      inputCostMicros: 1_500,
      outputCostMicros: 2_250_000,
      totalCostMicros: 2_251_500,
      credits: 4,
      durationMs: 2000,
      status: 'error',
      requestAt: `${d2}T11:00:00.000Z`,
    });
    expect(res.body.items.every((item: object) => !('key' in item))).toBe(true);
  });

  it('filter by user, API client, agent type and model', async () => {
    const get = async (query: string) => idsOf((await api('GET', usage(query), { token: owner.accessToken })).body);
    expect(await get(`?userId=${editor.userId}`)).toEqual(ids('q1', 'e1'));
    expect(await get(`?userId=${owner.userId}&model=claude`)).toEqual(ids('o2', 'o1'));
    expect(await get(`?apiClientId=${clientId}`)).toEqual(ids('k1'));
    expect(await get('?agentType=artifact')).toEqual(ids('o2'));
    expect(await get('?model=gpt-4o')).toEqual(ids('e1'));
    expect(await get(`?model=${encodeURIComponent(QUOTED_MODEL)}`)).toEqual(ids('q1'));
    expect(await get(`?userId=${viewer.userId}`)).toEqual([]);
  });

  it('filter by date range: whole UTC days, or instants (from inclusive, to exclusive) in any offset', async () => {
    const get = async (query: string) => idsOf((await api('GET', usage(query), { token: owner.accessToken })).body);
    expect(await get(`?from=${d2}&to=${d2}`)).toEqual(ids('e1', 'o2'));
    expect(await get(`?from=${d3}`)).toEqual(ids('f1', 'q1', 'k1'));
    expect(await get(`?to=${d1}`)).toEqual(ids('o1'));
    expect(await get(`?from=${d2}T10:00:00Z&to=${d2}T11:00:00Z`)).toEqual(ids('o2'));
    const plusOne = (time: string) => encodeURIComponent(`${d2}T${time}+01:00`);
    expect(await get(`?from=${plusOne('11:00:00')}&to=${plusOne('12:00:00.001')}`)).toEqual(ids('e1', 'o2'));
    expect(await get(`?userId=${owner.userId}&from=${d2}&to=${d3}`)).toEqual(ids('f1', 'o2'));
    // Finer than the millisecond keys hold: an exclusive end rounds up, so the range still holds its start.
    expect(await get(`?from=${d2}T10:00:00Z&to=${d2}T10:00:00.0005Z`)).toEqual(ids('o2'));
    // An inclusive start rounds up too: it takes no instant before it.
    expect(await get(`?from=${d2}T10:00:00.0005Z&to=${d2}T11:00:00Z`)).toEqual([]);
    // The latest instant .NET and Python write ("no end") stays in year 9999.
    const noEnd = encodeURIComponent('9999-12-31T23:59:59.9999999+00:00');
    expect(await get(`?from=${d2}&to=${noEnd}`)).toEqual(await get(`?from=${d2}`));
    const empty = await api('GET', usage(`?from=${d2}T10:00:00Z&to=${d2}T10:00:00.0000Z`), { token: owner.accessToken });
    expect([empty.status, empty.body.errors?.[0]?.path]).toEqual([400, 'query.from']);
  });

  it('page with cursors, for users and API keys alike', async () => {
    for (const credentials of [{ token: editor.accessToken }, { apiKey: usageKey }]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: ApiResponse = await api('GET', usage(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`), credentials);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...idsOf(res.body));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(ids('f1', 'q1', 'k1', 'e1', 'o2', 'o1'));
    }
  });

  it('refuse bad filters and a cursor of another list with 400', async () => {
    const token = owner.accessToken;
    for (const query of [
      `?from=${d3}&to=${d1}`,
      '?limit=0',
      '?agentType=poetry',
      '?userId=nobody',
      '?from=yesterday',
      '?model=a%23b',
    ])
      expect((await api('GET', usage(query), { token })).status, query).toBe(400);
    const ofEditor = (await api('GET', usage(`?userId=${editor.userId}&limit=1`), { token })).body.nextCursor;
    expect(ofEditor).toBeTruthy();
    const res = await api('GET', usage(`?cursor=${ofEditor}`), { token });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'query.cursor' })]);
  });
});

describe('usage at the edges of the calendar', () => {
  const token = () => owner.accessToken;

  it('take the last day there is (9999-12-31) as a `to`, in the list, the export and the daily usage', async () => {
    const all = idsOf((await api('GET', usage(), { token: token() })).body);
    expect(all.length).toBeGreaterThan(0);
    for (const query of ['?to=9999-12-31', `?userId=${owner.userId}&to=9999-12-31`]) {
      const res = await api('GET', usage(query), { token: token() });
      expect(res.status, query).toBe(200);
    }
    expect(idsOf((await api('GET', usage('?to=9999-12-31'), { token: token() })).body)).toEqual(all);
    const csv = await api('GET', usage('/export.csv?to=9999-12-31'), { token: token() });
    expect(csv.status).toBe(200);
    expect(parseCsv(csv.body as string)).toHaveLength(1 + all.length);
    for (const dimension of ['org', 'user', 'model']) {
      const res = await api('GET', usage(`/daily?from=9999-12-01&to=9999-12-31&dimension=${dimension}`), { token: token() });
      expect(res.status, dimension).toBe(200);
      expect(res.body.items).toEqual([]);
    }
  });

  it('refuse with 400 on the field a date whose UTC instant is outside years 0001–9999', async () => {
    for (const [query, path] of [
      [`?to=${encodeURIComponent('9999-12-31T23:00:00-05:00')}`, 'query.to'],
      [`?to=${encodeURIComponent('0000-01-01T00:00:00+01:00')}`, 'query.to'],
      ['?from=0000-06-01', 'query.from'],
      [`/export.csv?from=${encodeURIComponent('9999-12-31T22:00:00-03:00')}`, 'query.from'],
      ['/daily?from=0000-12-31&to=0001-01-02', 'query.from'],
    ] as const) {
      const res = await api('GET', usage(query), { token: token() });
      expect(res.status, query).toBe(400);
      expect(res.body.errors, query).toEqual([expect.objectContaining({ path })]);
    }
    // The 30 days before an early `to` stop at the first day there is.
    const early = await api('GET', usage('/daily?to=0001-01-05&dimension=user'), { token: token() });
    expect(early.status).toBe(200);
  });
});

describe('usage export', () => {
  it('is a CSV file with a header row, quoting commas, quotes and line breaks, and defusing formulas', async () => {
    const res = await api('GET', usage('/export.csv'), { token: owner.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="usage-${orgId}.csv"`);
    expect(res.headers.get('x-next-cursor')).toBeNull();
    expect(res.body).toContain('"acme ""turbo"", v2"');

    const [header, ...rows] = parseCsv(res.body as string);
    expect(header).toEqual(USAGE_CSV_HEADER);
    expect(rows.map((r) => r[0])).toEqual(ids('f1', 'q1', 'k1', 'e1', 'o2', 'o1'));
    expect(rows.every((r) => r.length === header!.length)).toBe(true);
    const cell = (row: string[], column: string) => row[header!.indexOf(column)];
    const [f1, q1, k1, e1] = rows;
    expect(cell(q1!, 'model')).toBe(QUOTED_MODEL);
    expect(JSON.parse(cell(k1!, 'metadata')!)).toEqual(NOTE);
    expect(cell(k1!, 'userId')).toBe('');
    expect(cell(k1!, 'apiClientId')).toBe(clientId);
    expect(cell(f1!, 'model')).toBe("'=cmd|calc");
    expect(cell(f1!, 'chatId')).toBe('chat-1');
    expect(cell(e1!, 'totalCostUsd')).toBe('2.251500');
    expect(cell(e1!, 'status')).toBe('error');
    expect(cell(e1!, 'requestAt')).toBe(`${d2}T11:00:00.000Z`);
  });

  it('takes the filters of the list', async () => {
    const res = await api('GET', usage(`/export.csv?userId=${editor.userId}&from=${d3}`), { apiKey: usageKey });
    expect(res.status).toBe(200);
    expect(
      parseCsv(res.body)
        .slice(1)
        .map((r) => r[0]),
    ).toEqual(ids('q1'));
  });

  it('reads at most two pages of logs per file when a filter leaves gaps', async () => {
    // limit 2: the first query reads f1 and q1 (one routing call), the second reads k1; then it stops.
    const res = await api('GET', usage('/export.csv?agentType=routing&limit=2'), { token: owner.accessToken });
    expect(
      parseCsv(res.body)
        .slice(1)
        .map((r) => r[0]),
    ).toEqual(ids('q1'));
    expect(res.dynamoRequests).toEqual(['TransactGetItems', 'Query', 'Query']);
    const next = res.headers.get('x-next-cursor');
    expect(next).toBeTruthy();
    const rest = await api('GET', usage(`/export.csv?agentType=routing&cursor=${next}`), { token: owner.accessToken });
    expect(parseCsv(rest.body)).toHaveLength(1); // the header alone: no older routing call
  });

  it('is bounded per file: the x-next-cursor header asks for the rest', async () => {
    const first = await api('GET', usage('/export.csv?limit=4'), { token: owner.accessToken });
    expect(parseCsv(first.body)).toHaveLength(5);
    const cursor = first.headers.get('x-next-cursor');
    expect(cursor).toBeTruthy();
    const rest = await api('GET', usage(`/export.csv?limit=4&cursor=${cursor}`), { token: owner.accessToken });
    expect(rest.headers.get('x-next-cursor')).toBeNull();
    const rows = [...parseCsv(first.body).slice(1), ...parseCsv(rest.body).slice(1)];
    expect(rows.map((r) => r[0])).toEqual(ids('f1', 'q1', 'k1', 'e1', 'o2', 'o1'));
    expect((await api('GET', usage('/export.csv?limit=1001'), { token: owner.accessToken })).status).toBe(400);
  });
});

describe('daily usage', () => {
  beforeAll(async () => {
    for (const day of [d1, d2, d3]) await aggregateDay(orgId, day);
  });
  const daily = (query = '') => usage(`/daily${query}`);
  const pick = (body: { items: Array<Record<string, unknown>> }, ...fields: string[]) =>
    body.items.map((i) => fields.map((f) => i[f]));

  it('gives the organization’s totals per day (the last 30 days by default)', async () => {
    const res = await api('GET', daily(), { token: owner.accessToken });
    expect(res.status).toBe(200);
    expect(pick(res.body, 'day', 'dimension', 'calls', 'errors', 'credits', 'totalTokens')).toEqual([
      [d1, 'org', 1, 0, 1, 120],
      [d2, 'org', 2, 1, 6, 240],
      [d3, 'org', 3, 0, 56, 360],
    ]);
    expect(res.body.items[1]).toMatchObject({ kind: 'org', totalCostMicros: 2 * 2_251_500 });
    const range = await api('GET', daily(`?from=${d2}&to=${d2}`), { token: owner.accessToken });
    expect(pick(range.body, 'day', 'credits')).toEqual([[d2, 6]]);
  });

  it('gives one user’s or one model’s series, or the breakdown by user or model', async () => {
    const token = editor.accessToken;
    const editorSeries = await api('GET', daily(`?from=${d1}&to=${d3}&dimension=user%23${editor.userId}`), { token });
    expect(pick(editorSeries.body, 'day', 'credits', 'errors')).toEqual([
      [d2, 4, 1],
      [d3, 16, 0],
    ]);
    const claude = await api('GET', daily(`?from=${d1}&to=${d3}&dimension=model%23claude`), { token });
    expect(pick(claude.body, 'day', 'credits')).toEqual([
      [d1, 1],
      [d2, 2],
    ]);
    const models = await api('GET', daily(`?from=${d3}&to=${d3}&dimension=model`), { token });
    expect(pick(models.body, 'dimension', 'credits').sort()).toEqual(
      [
        ['model#=cmd|calc', 32],
        [`model#${QUOTED_MODEL}`, 16],
        ['model#sdxl', 8],
      ].sort(),
    );
    const users = await api('GET', daily(`?from=${d3}&to=${d3}&dimension=user`), { apiKey: usageKey });
    expect(pick(users.body, 'dimension', 'credits').sort()).toEqual(
      [
        [`user#${owner.userId}`, 32],
        [`user#${editor.userId}`, 16],
      ].sort(),
    );
    expect((await api('GET', daily('?dimension=team'), { token })).status).toBe(400);
    expect((await api('GET', daily(`?from=${d3}&to=${d1}`), { token })).status).toBe(400);
    // `to` defaults to today: a `from` after it is the same reversed range.
    const future = await api('GET', daily('?from=2999-01-01'), { token });
    expect(future.status).toBe(400);
    expect(future.body.errors).toEqual([{ path: 'query.from', message: 'On or before `to` (default: today)' }]);
  });
});

describe('who may read usage', () => {
  const routes = () => [usage(), usage('/daily'), usage('/export.csv')];

  it('is hidden from a viewer and from an API key without usage:read (403)', async () => {
    for (const path of routes()) {
      expect((await api('GET', path, { token: viewer.accessToken })).status, path).toBe(403);
      expect((await api('GET', path, { apiKey: otherKey })).status, path).toBe(403);
    }
  });

  it('is open to owners, editors and API keys with usage:read', async () => {
    for (const path of routes())
      for (const credentials of [{ token: owner.accessToken }, { token: editor.accessToken }, { apiKey: usageKey }])
        expect((await api('GET', path, credentials)).status, path).toBe(200);
  });

  it('never reaches another organization: a member of one reading another gets 404', async () => {
    const res = await api('GET', `/v1/orgs/${owner.personalOrgId}/usage`, { token: editor.accessToken });
    expect(res.status).toBe(404);
    const own = await api('GET', `/v1/orgs/${owner.personalOrgId}/usage`, { token: owner.accessToken });
    expect(own.body.items).toHaveLength(1);
  });
});
