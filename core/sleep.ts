import { setTimeout as wait } from 'node:timers/promises';

/**
 * Waits `ms`, or less if `signal` aborts (then it resolves too: the caller checks the signal).
 * Node's timer takes its abort listener back when it ends, so a loop that sleeps on one signal
 * for minutes does not pile listeners up on it.
 */
export const sleepUnlessAborted = (ms: number, signal?: AbortSignal): Promise<void> =>
  wait(ms, undefined, signal ? { signal } : {}).then(
    () => undefined,
    (error: unknown) => {
      if (!signal?.aborted) throw error;
    },
  );
