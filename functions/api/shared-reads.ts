import type { Logger } from '../../core/log.js';

export interface SharedReadsOptions {
  /** A read this young is served as is. */
  readonly maxAgeMs?: number;
  /** Up to this age a read is still served while a newer one is made in the background. */
  readonly maxStaleMs?: number;
  /** Keys remembered at once; the least recently read is dropped first. */
  readonly maxEntries?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export const SHARED_READS_DEFAULTS = { maxAgeMs: 1_000, maxStaleMs: 2_000, maxEntries: 100 } as const;

export interface SharedRead<T> {
  readonly value: T;
  /** When the read began: nothing in it is older than this. */
  readonly readAt: number;
}

export interface SharedReads<T> {
  /** The value under `key`: remembered, being read, or read now with `load`. */
  get(key: string, load: () => Promise<T>): Promise<SharedRead<T>>;
  /** Forget every read, and never serve one that began before now: after a write through this process. */
  invalidate(): void;
}

/**
 * Keeps `read` under `key` unless a newer read is already there, as the most recently used entry
 * of a map that holds at most `maxEntries` (a Map iterates in insertion order, so the first key
 * is the least recently remembered).
 */
export const rememberNewest = <R extends { readonly readAt: number }>(
  reads: Map<string, R>,
  key: string,
  read: R,
  maxEntries: number,
): void => {
  const current = reads.get(key);
  if (current && current.readAt > read.readAt) return;
  reads.delete(key);
  reads.set(key, read);
  if (reads.size > maxEntries) {
    const oldest = reads.keys().next().value;
    if (oldest !== undefined) reads.delete(oldest);
  }
};

/**
 * One read of a store query for every caller of this process within a short age. A console tab
 * and a CLI each poll the hosts list several times a second during a release; reading and
 * parsing a page of 50 host records for each poll made every poll cost a database round trip
 * and ~4 ms of this process's CPU, and queue behind the release's own writes. Here a read serves
 * everyone for `maxAgeMs`, then is refreshed in the background while still served (up to
 * `maxStaleMs`), so a steady poller never waits on the database. Writes made through this process
 * call `invalidate`, so its own callers read what they wrote; another process's writes show within
 * `maxStaleMs`, the same order as a DynamoDB index's own lag.
 */
export const createSharedReads = <T>(options: SharedReadsOptions = {}): SharedReads<T> => {
  const { maxAgeMs, maxStaleMs, maxEntries } = { ...SHARED_READS_DEFAULTS, ...options };
  const now = options.now ?? Date.now;
  /** Bumped by `invalidate`: a read of an earlier generation is neither served nor remembered. */
  let generation = 0;
  const reads = new Map<string, SharedRead<T>>();
  const pending = new Map<string, { readonly read: Promise<SharedRead<T>>; readonly generation: number }>();

  const remember = (key: string, read: SharedRead<T>) => rememberNewest(reads, key, read, maxEntries);

  const start = (key: string, load: () => Promise<T>): Promise<SharedRead<T>> => {
    const begun = { readAt: now(), generation };
    const read = load()
      .then((value) => {
        const done = { value, readAt: begun.readAt };
        if (begun.generation === generation) remember(key, done);
        return done;
      })
      .finally(() => {
        if (pending.get(key)?.read === read) pending.delete(key);
      });
    pending.set(key, { read, generation });
    return read;
  };

  return {
    get(key, load) {
      const read = reads.get(key);
      if (read) {
        const age = now() - read.readAt;
        if (age < maxAgeMs) return Promise.resolve(read);
        if (age < maxStaleMs) {
          if (!pending.has(key)) {
            start(key, load).catch((error: unknown) =>
              options.logger?.warn({ err: error, key }, 'shared read refresh failed'),
            );
          }
          return Promise.resolve(read);
        }
      }
      const inFlight = pending.get(key);
      if (inFlight && inFlight.generation === generation) return inFlight.read;
      return start(key, load);
    },
    invalidate() {
      generation += 1;
      reads.clear();
      pending.clear();
    },
  };
};
