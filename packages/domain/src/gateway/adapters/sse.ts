/**
 * Server-Sent Events over a response body (any async iterable of bytes), as the WHATWG spec parses them: lines end in LF, CRLF or CR
 * (split anywhere across network chunks, multi-byte characters too), `data` lines of one event join
 * with LF, comments and unknown fields are ignored, and an event cut off before its blank line is
 * not dispatched. Each read waits within the call's deadline, which restarts on every chunk.
 */
import type { Deadline } from './deadline.ts';

export interface SseEvent {
  /** The `event` field, or `message` when absent. */
  event: string;
  data: string;
}

class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';

  /** Feed text; returns the events it completed. */
  push(text: string, final = false): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\n', start);
      const cr = this.buffer.indexOf('\r', start);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (end < 0) break;
      let next = end + 1;
      if (this.buffer[end] === '\r') {
        // A CR at the end of what has arrived may be the first half of a CRLF.
        if (end === this.buffer.length - 1 && !final) break;
        if (this.buffer[next] === '\n') next++;
      }
      this.line(this.buffer.slice(start, end), events);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length) events.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}

/** The events of a response body, read within the deadline. Stopping early closes the body. */
export async function* sseEvents(body: AsyncIterable<Uint8Array>, deadline: Deadline): AsyncGenerator<SseEvent> {
  const chunks = body[Symbol.asyncIterator]();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await deadline.next(chunks);
      if (done) {
        yield* parser.push(decoder.decode(), true);
        finished = true;
        return;
      }
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    if (!finished) chunks.return?.()?.catch(() => undefined);
  }
}
