import { describe, expect, it } from 'vitest';
import { EventStreamParser, sleep } from './sse.js';

describe('EventStreamParser', () => {
  it('parses named events with ids, in chunks split anywhere', () => {
    const parser = new EventStreamParser();
    const text =
      'id: 1\nevent: release\ndata: {"state":"running"}\n\n: keep-alive\n\nid: 2\nevent: job\ndata: {"id":"j1"}\n\n';
    const events = [];

    for (let i = 0; i < text.length; i += 7) events.push(...parser.feed(text.slice(i, i + 7)));

    expect(events).toEqual([
      { event: 'release', data: '{"state":"running"}', id: '1' },
      { event: 'job', data: '{"id":"j1"}', id: '2' },
    ]);
    expect(parser.lastEventId).toBe('2');
  });

  it('joins multi-line data, accepts CRLF and CR line ends, and defaults the name to message', () => {
    const parser = new EventStreamParser();

    const events = [...parser.feed('data: a\r\ndata:b\r\n\r'), ...parser.feed('\ndata: c\r\r\n')];

    expect(events).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: 'c' },
    ]);
  });

  it('dispatches nothing for comments or a blank block, and keeps a partial event for the next chunk', () => {
    const parser = new EventStreamParser();

    expect(parser.feed(': keep-alive\n\n\n')).toEqual([]);
    expect(parser.feed('event: end\ndata: {"state":"succeeded"}')).toEqual([]);
    expect(parser.feed('\n\n')).toEqual([{ event: 'end', data: '{"state":"succeeded"}' }]);
  });
});

describe('sleep between reconnects', () => {
  /** A signal that counts the abort listeners added and not taken back (browser code: no node:events). */
  const countedSignal = () => {
    const controller = new AbortController();
    const { signal } = controller;
    let listening = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      listening++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
      listening--;
      remove(...args);
    }) as AbortSignal['removeEventListener'];
    return { controller, listening: () => listening };
  };

  it('takes its abort listener back when the wait ends, so a long-lived stream does not pile them up', async () => {
    const { controller, listening } = countedSignal();
    for (let i = 0; i < 20; i++) await sleep(1, controller.signal);
    expect(listening()).toBe(0);
  });

  it('ends at once when the signal aborts, and at once if it already had', async () => {
    const { controller, listening } = countedSignal();
    const started = Date.now();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    await waiting;
    await sleep(60_000, controller.signal);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(listening()).toBe(0);
  });
});
