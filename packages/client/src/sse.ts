// A parser for text/event-stream (WHATWG HTML §9.2.6 "Interpreting an event
// stream") over fetch's body stream. Only what the API uses: `event`, `data`
// (multi-line joined with \n), `id`, comments; `retry` is ignored.

/** Limit on one event's size: a server that never ends an event must not grow memory without bound. */
export const SSE_EVENT_BYTES_MAX = 1024 * 1024;

export interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Incremental parser: feed text chunks, get whole events. */
export class SseParser {
  private buffer = '';
  private eventType = '';
  private dataLines: string[] = [];
  private dataBytes = 0;
  private lastId: string | null = null;

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (m === null) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    if (this.buffer.length + this.dataBytes > SSE_EVENT_BYTES_MAX) {
      throw new Error(`event stream: an event exceeds ${SSE_EVENT_BYTES_MAX} bytes`);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (this.dataLines.length === 0) {
        this.eventType = '';
        return null;
      }
      const ev: SseEvent = { event: this.eventType || 'message', data: this.dataLines.join('\n'), id: this.lastId };
      this.eventType = '';
      this.dataLines = [];
      this.dataBytes = 0;
      return ev;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') {
      this.dataLines.push(value);
      this.dataBytes += value.length;
    } else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return null;
  }
}

/**
 * Events of a fetch body, in order, until the stream ends or the reader is
 * released. `onBytes` is called for every chunk read, comments included: the
 * server's `: heartbeat` comments carry no event but show the node is there.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, onBytes?: () => void): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onBytes?.();
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) yield ev;
    }
  } finally {
    // Closing the iterator early (break in for-await) cancels the HTTP stream.
    await reader.cancel().catch(() => undefined);
  }
}
