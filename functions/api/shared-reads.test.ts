import { describe, expect, it } from 'vitest';
import { createSharedReads } from './shared-reads.js';

/** A load that counts its calls and resolves when told, with the value given then. */
const controlledLoad = () => {
  let calls = 0;
  const waiting: ((value: string) => void)[] = [];
  return {
    load: () => {
      calls += 1;
      return new Promise<string>((resolve) => waiting.push(resolve));
    },
    resolveNext: (value: string) => waiting.shift()?.(value),
    get calls() {
      return calls;
    },
  };
};

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('shared reads', () => {
  const setup = () => {
    const clock = { now: 10_000 };
    const reads = createSharedReads<string>({
      maxAgeMs: 1_000,
      maxStaleMs: 2_000,
      maxEntries: 2,
      now: () => clock.now,
    });
    return { clock, reads };
  };

  it('makes one read for every caller while it is young, and callers during the read wait for it', async () => {
    const { clock, reads } = setup();
    const source = controlledLoad();
    const first = reads.get('page', source.load);
    const second = reads.get('page', source.load);
    source.resolveNext('v1');
    expect((await first).value).toBe('v1');
    expect((await second).value).toBe('v1');
    clock.now += 999;
    expect((await reads.get('page', source.load)).value).toBe('v1');
    expect(source.calls).toBe(1);
  });

  it('serves a stale read at once and refreshes it in the background, once', async () => {
    const { clock, reads } = setup();
    const source = controlledLoad();
    const first = reads.get('page', source.load);
    source.resolveNext('v1');
    await first;
    clock.now += 1_500;
    const stale = await reads.get('page', source.load);
    expect(stale).toEqual({ value: 'v1', readAt: 10_000 });
    await reads.get('page', source.load);
    expect(source.calls).toBe(2);
    source.resolveNext('v2');
    await settle();
    expect(await reads.get('page', source.load)).toEqual({ value: 'v2', readAt: 11_500 });
  });

  it('waits for a new read when the last one is older than maxStaleMs', async () => {
    const { clock, reads } = setup();
    const source = controlledLoad();
    const first = reads.get('page', source.load);
    source.resolveNext('v1');
    await first;
    clock.now += 2_000;
    const next = reads.get('page', source.load);
    let done = false;
    void next.then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    source.resolveNext('v2');
    expect((await next).value).toBe('v2');
  });

  it('after invalidate serves nothing read before it, not even a read still in flight', async () => {
    const { reads } = setup();
    const source = controlledLoad();
    const before = reads.get('page', source.load);
    reads.invalidate();
    const after = reads.get('page', source.load);
    expect(source.calls).toBe(2);
    source.resolveNext('old');
    source.resolveNext('new');
    expect((await before).value).toBe('old');
    expect((await after).value).toBe('new');
    expect((await reads.get('page', source.load)).value).toBe('new');
    expect(source.calls).toBe(2);
  });

  it('keeps pages apart by key and forgets the least recently read beyond maxEntries', async () => {
    const { reads } = setup();
    let calls = 0;
    const load = (value: string) => async () => {
      calls += 1;
      return value;
    };
    expect((await reads.get('a', load('A'))).value).toBe('A');
    expect((await reads.get('b', load('B'))).value).toBe('B');
    expect((await reads.get('c', load('C'))).value).toBe('C');
    expect(calls).toBe(3);
    expect((await reads.get('c', load('C2'))).value).toBe('C');
    expect((await reads.get('a', load('A2'))).value).toBe('A2');
    expect(calls).toBe(4);
  });

  it('passes a failed read to the callers waiting for it and remembers nothing', async () => {
    const { reads } = setup();
    await expect(reads.get('page', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect((await reads.get('page', async () => 'ok')).value).toBe('ok');
  });

  it('keeps serving the stale read when its background refresh fails', async () => {
    const { clock, reads } = setup();
    await reads.get('page', async () => 'v1');
    clock.now += 1_500;
    expect((await reads.get('page', () => Promise.reject(new Error('db down')))).value).toBe('v1');
    await settle();
    expect((await reads.get('page', async () => 'v2')).value).toBe('v1');
  });
});
