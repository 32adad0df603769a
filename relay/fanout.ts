import type { Logger } from '../core/log.js';
import type {
  HostJobOutcome,
  HostJobSpec,
  Job,
  RelayTaskInput,
  RelayTaskOutput,
} from '../core/model/index.js';
import { STOP_COUNTER } from '../core/model/index.js';
import type { Store } from '../core/store/types.js';
import { RELAY_ERROR_CODES } from './errors.js';
import type { HostCache } from './host-cache.js';
import { type JobDeps, newJobOf, runHostJob } from './jobs.js';
import { describe, errorsIn, finishJob, jobError, outcomeOf } from './outcome.js';
import type { Semaphore } from './semaphore.js';
import type { SessionPool } from './sessions.js';

/** How stale the parent's counters may be before a dispatch reads them again (other shards add to them too). */
const BUDGET_FRESH_MS = 100;
/** Jobs ended with these codes were never dispatched: counted as skipped, not failed. */
const SKIP_CODES: ReadonlySet<string> = new Set([RELAY_ERROR_CODES.errorBudget, RELAY_ERROR_CODES.stopped]);
/** Outcomes are added to the parent's counters in batches this far apart. */
const COUNT_FLUSH_MS = 50;
/** Past this, results are left out of the task output (Step Functions caps it at 256 KiB); the jobs keep them. */
const MAX_OUTPUT_BYTES = 200 * 1024;

export interface FanoutDeps {
  readonly store: Store;
  readonly pool: SessionPool;
  readonly logger: Logger;
  readonly relayId: string;
  /** Host jobs in flight across every shard this relay runs. */
  readonly inFlight: Semaphore;
  /** Host records shared by every shard; the store is read directly without it. */
  readonly hosts?: HostCache;
}

/**
 * The parent's counters as this shard sees them: the stored ones (re-read when older than
 * BUDGET_FRESH_MS, since other shards add too) plus this shard's own adds, which are written
 * in one atomic ADD per COUNT_FLUSH_MS instead of one per job.
 */
class CounterBatch {
  readonly #store: Store;
  readonly #parentId: string;
  readonly #logger: Logger;
  #stored: Record<string, number> = {};
  #storedAt = 0;
  #pending: Record<string, number> = {};
  /** Adds on their way to the store: still counted until the store's answer includes them. */
  #sending: Record<string, number> = {};
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #reading: Promise<void> | undefined;

  constructor(store: Store, parentId: string, logger: Logger) {
    this.#store = store;
    this.#parentId = parentId;
    this.#logger = logger;
  }

  add(name: string): void {
    this.#pending[name] = (this.#pending[name] ?? 0) + 1;
    this.#timer ??= setTimeout(() => void this.flush(), COUNT_FLUSH_MS);
  }

  async current(): Promise<Record<string, number>> {
    if (Date.now() - this.#storedAt > BUDGET_FRESH_MS) {
      // One read for every lane that finds the counters stale at once, not one each.
      this.#reading ??= this.#read().finally(() => {
        this.#reading = undefined;
      });
      await this.#reading;
    }
    const view = { ...this.#stored };
    for (const extra of [this.#pending, this.#sending]) {
      for (const [name, by] of Object.entries(extra)) view[name] = (view[name] ?? 0) + by;
    }
    return view;
  }

  async #read(): Promise<void> {
    await this.#writing;
    this.#stored = await this.#store.counters.get(this.#parentId);
    this.#storedAt = Date.now();
  }

  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deltas = this.#pending;
    if (Object.keys(deltas).length === 0) return this.#writing;
    this.#pending = {};
    this.#writing = this.#writing.then(async () => {
      this.#sending = deltas;
      try {
        this.#stored = await this.#store.counters.add(this.#parentId, deltas);
        this.#storedAt = Date.now();
      } catch (error) {
        this.#logger.error({ err: error, deltas }, 'could not count outcomes against the parent');
      }
      this.#sending = {};
    });
    return this.#writing;
  }
}

/** Thrown when the shard was abandoned before every job had an outcome. */
export class ShardAbandoned extends Error {
  constructor() {
    super('the shard was abandoned before it finished');
    this.name = 'ShardAbandoned';
  }
}

/**
 * Runs one shard: every host job gets its own async flow on this one event loop, at most
 * `maxConcurrency` of this shard and `inFlight` of the whole relay at once. A slow or dead host
 * holds only its own slot, up to its own deadline. Before each dispatch the parent's shared
 * error count is checked against `maxErrors`, and its stop counter for an operator's cancel; past
 * either nothing new starts (the rest are cancelled with E_ERROR_BUDGET or E_STOPPED and counted
 * as skipped) while the jobs in flight finish.
 */
export const runShard = async (
  input: RelayTaskInput,
  deps: FanoutDeps,
  signal: AbortSignal,
): Promise<RelayTaskOutput> => {
  const logger = deps.logger.child({ parentId: input.parentId });
  const counters = new CounterBatch(deps.store, input.parentId, logger);
  const jobDeps: JobDeps = { ...deps, logger, count: (name) => counters.add(name) };
  /** Why nothing new may start, if so: an operator stopped the parent, or its error budget is spent. */
  const stopReason = async (): Promise<{ code: string; message: string } | undefined> => {
    const current = await counters.current();
    if ((current[STOP_COUNTER] ?? 0) > 0) {
      return {
        code: RELAY_ERROR_CODES.stopped,
        message: `not dispatched: ${input.parentId} was stopped by an operator`,
      };
    }
    if (errorsIn(current) > input.maxErrors) {
      return {
        code: RELAY_ERROR_CODES.errorBudget,
        message: `not dispatched: the error budget (maxErrors ${input.maxErrors}) of ${input.parentId} is spent`,
      };
    }
    return undefined;
  };

  // Every record of the shard, and its hosts, in a few batch calls up front (a retried shard reads
  // the ones its first attempt made), so dispatch spends store calls only on the claim and the outcome.
  const [jobs] = await Promise.all([
    deps.store.jobs.createMany(
      input.jobs.map((spec) => newJobOf({ spec, parentType: input.parentType, parentId: input.parentId })),
    ),
    // Only a shortcut: if the batch read fails, each job reads its own host as before.
    deps.hosts
      ?.prefetch(input.jobs.map((spec) => spec.hostId))
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'could not read the shard’s hosts in one batch'),
      ),
  ]);
  const results: (HostJobOutcome | undefined)[] = new Array(input.jobs.length);
  let next = 0;
  const runOne = async (spec: HostJobSpec, index: number): Promise<void> => {
    const release = await deps.inFlight.acquire(signal);
    try {
      const stop = await stopReason();
      if (stop) {
        results[index] = await skip(index, stop);
        return;
      }
      results[index] = await runHostJob(
        {
          spec,
          parentType: input.parentType,
          parentId: input.parentId,
          timeoutMs: input.jobTimeoutSec * 1000,
          signal,
          job: jobs[index] as Job,
        },
        jobDeps,
      );
    } catch (error) {
      if (signal.aborted) return;
      // The store failed under this job; the others carry on and the workflow sees why.
      logger.error({ err: error, jobId: spec.jobId }, 'host job failed inside the relay');
      results[index] = {
        jobId: spec.jobId,
        hostId: spec.hostId,
        action: spec.action,
        state: 'failed',
        error: describe(error),
      };
    } finally {
      release();
    }
  };
  const skip = async (index: number, why: { code: string; message: string }): Promise<HostJobOutcome> =>
    outcomeOf(
      await finishJob(jobs[index] as Job, 'cancelled', { error: jobError(why.code, why.message) }, jobDeps),
    );
  const lane = async (): Promise<void> => {
    while (!signal.aborted) {
      const index = next++;
      const spec = input.jobs[index];
      if (!spec) return;
      await runOne(spec, index);
    }
  };
  const lanes = Math.min(input.maxConcurrency, input.jobs.length);
  await Promise.all(Array.from({ length: lanes }, lane));
  await counters.flush();
  if (signal.aborted || results.some((r) => r === undefined)) throw new ShardAbandoned();
  return shardOutput(input.parentId, results as HostJobOutcome[]);
};

export const shardOutput = (parentId: string, results: HostJobOutcome[]): RelayTaskOutput => {
  const counts = { succeeded: 0, failed: 0, skipped: 0 };
  for (const r of results) {
    if (r.state === 'succeeded') counts.succeeded += 1;
    else if (r.state === 'cancelled' && SKIP_CODES.has(r.error?.code ?? '')) counts.skipped += 1;
    else counts.failed += 1;
  }
  let output: RelayTaskOutput = { parentId, results, counts };
  if (Buffer.byteLength(JSON.stringify(output)) > MAX_OUTPUT_BYTES) {
    output = { parentId, results: results.map(({ result: _result, ...rest }) => rest), counts };
  }
  return output;
};
