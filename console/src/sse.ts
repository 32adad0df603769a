/**
 * Server-Sent Events over fetch: EventSource cannot send the Authorization header the API wants.
 * The parser follows the HTML spec's event stream format (fields, comments, multi-line data).
 */

export interface StreamEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

export class EventStreamParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  /** The last id the server sent: a reconnect passes it as Last-Event-ID. */
  lastEventId: string | undefined;

  /** Feeds a chunk of text; answers the events it completed. */
  feed(chunk: string): StreamEvent[] {
    this.buffer += chunk;
    const events: StreamEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): StreamEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return undefined;
  }

  private dispatch(): StreamEvent | undefined {
    if (this.id !== undefined) this.lastEventId = this.id;
    const hasData = this.data.length > 0;
    const event: StreamEvent = {
      event: this.event || 'message',
      data: this.data.join('\n'),
      ...(this.id !== undefined ? { id: this.id } : {}),
    };
    this.data = [];
    this.event = '';
    this.id = undefined;
    return hasData ? event : undefined;
  }
}

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'unavailable';

export interface FollowOptions {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly onEvent: (event: StreamEvent) => void;
  readonly onStatus?: (status: StreamStatus, detail?: string) => void;
  readonly signal: AbortSignal;
  /** Waits between reconnects, growing to the last one. */
  readonly retryMs?: readonly number[];
  /** Called on a 401: the key is no longer good, retrying will not help. */
  readonly onUnauthorized?: () => void;
}

/** Waits `ms`, or less if `signal` aborts; either way the abort listener is taken back. */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Reads the stream until an `end` event, reconnecting (with Last-Event-ID) whenever it drops,
 * until `signal` aborts. Resolves when it stops.
 */
export const followEvents = async (options: FollowOptions): Promise<void> => {
  const { signal } = options;
  const retry = options.retryMs ?? [1_000, 2_000, 5_000, 10_000];
  const parser = new EventStreamParser();
  let failures = 0;
  while (!signal.aborted) {
    options.onStatus?.(failures === 0 ? 'connecting' : 'reconnecting');
    let ended = false;
    try {
      const res = await fetch(options.url, {
        headers: {
          accept: 'text/event-stream',
          ...options.headers,
          ...(parser.lastEventId ? { 'last-event-id': parser.lastEventId } : {}),
        },
        signal,
        cache: 'no-store',
      });
      if (res.status === 401) {
        options.onUnauthorized?.();
        return;
      }
      if (!res.ok || !res.body) {
        options.onStatus?.('unavailable', `HTTP ${res.status}`);
      } else {
        options.onStatus?.('live');
        failures = 0;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.feed(value)) {
            options.onEvent(event);
            if (event.event === 'end') ended = true;
          }
          if (ended) {
            await reader.cancel().catch(() => undefined);
            break;
          }
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      options.onStatus?.('reconnecting', (error as Error).message);
    }
    if (ended) {
      options.onStatus?.('ended');
      return;
    }
    await sleep(retry[Math.min(failures, retry.length - 1)] ?? 1_000, signal);
    failures++;
  }
};
