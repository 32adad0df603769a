import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleepUnlessAborted } from './sleep.js';

describe('sleepUnlessAborted', () => {
  it('takes its abort listener back when it ends, and ends at once on abort', async () => {
    const stop = new AbortController();
    for (let i = 0; i < 20; i++) await sleepUnlessAborted(1, stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);

    const started = Date.now();
    const long = sleepUnlessAborted(60_000, stop.signal);
    stop.abort();
    await long;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('resolves at once on a signal that has already aborted, and sleeps without one', async () => {
    const started = Date.now();
    await sleepUnlessAborted(60_000, AbortSignal.abort());
    expect(Date.now() - started).toBeLessThan(5_000);
    const plain = Date.now();
    await sleepUnlessAborted(20);
    expect(Date.now() - plain).toBeGreaterThanOrEqual(15);
  });
});
