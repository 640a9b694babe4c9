import { describe, expect, it } from 'vitest';
import { Deadline } from './deadline.ts';
import { sseEvents } from './sse.ts';
import type { SseEvent } from './sse.ts';

/** A body that delivers exactly these byte chunks. */
function body(...chunks: Array<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function events(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const event of sseEvents(stream, new Deadline('test'))) out.push(event);
  return out;
}

describe('the SSE parser', () => {
  it('reads events with their names and data, ignoring comments, ids and unknown fields', async () => {
    expect(
      await events(body(': keep-alive\n', 'event: ping\ndata: {}\n\n', 'id: 7\nretry: 10\nfoo: bar\ndata: plain\n\n')),
    ).toEqual([
      { event: 'ping', data: '{}' },
      { event: 'message', data: 'plain' },
    ]);
  });

  it('joins multi-line data with LF and strips one leading space only', async () => {
    expect(await events(body('data:  two spaces\ndata:none\ndata\n\n'))).toEqual([
      { event: 'message', data: ' two spaces\nnone\n' },
    ]);
  });

  it('takes LF, CRLF and CR line ends, even a CRLF split across chunks', async () => {
    expect(await events(body('data: a\r\n\r\ndata: b\r', '\n\r\n', 'data: c\r\rdata: d\n\n'))).toEqual([
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
      { event: 'message', data: 'c' },
      { event: 'message', data: 'd' },
    ]);
  });

  it('reassembles fields and multi-byte characters cut anywhere between chunks', async () => {
    const bytes = new TextEncoder().encode('event: delta\ndata: {"text":"héllo 👋"}\n\n');
    const oneByOne = Array.from(bytes, (byte) => new Uint8Array([byte]));
    expect(await events(body(...oneByOne))).toEqual([{ event: 'delta', data: '{"text":"héllo 👋"}' }]);
  });

  it('does not dispatch an event cut off before its blank line, nor one without data', async () => {
    expect(await events(body('event: only-a-name\n\ndata: complete\n\ndata: cut off'))).toEqual([
      { event: 'message', data: 'complete' },
    ]);
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: x\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const event of sseEvents(stream, new Deadline('test'))) if (event.data === 'x') break;
    expect(cancelled).toBe(true);
  });
});
