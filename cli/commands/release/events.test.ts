import { describe, expect, it } from 'vitest';
import { type SseEvent, sseEvents } from './events.js';

const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });

const collect = async (body: ReadableStream<Uint8Array>) => {
  const events: SseEvent[] = [];
  for await (const event of sseEvents(body)) events.push(event);
  return events;
};

describe('the Server-Sent Events reader', () => {
  it('reads events split anywhere across chunks, skipping keep-alive comments and ids', async () => {
    const events = await collect(
      streamOf(
        'event: rel',
        'ease\nid: 1\ndata: {"a":',
        '1}\n\n: keep-alive\n\n',
        'event: end\r\ndata: {}\r\n\r\n',
      ),
    );

    expect(events).toEqual([
      { event: 'release', data: '{"a":1}' },
      { event: 'end', data: '{}' },
    ]);
  });

  it('joins multi-line data and names an event without `event:` a message', async () => {
    expect(await collect(streamOf('data: one\ndata: two\n\n'))).toEqual([
      { event: 'message', data: 'one\ntwo' },
    ]);
  });

  it('drops an event cut off by the end of the stream', async () => {
    expect(await collect(streamOf('event: job\ndata: {"id":'))).toEqual([]);
  });
});
