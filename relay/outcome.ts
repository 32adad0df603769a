import { isGsmError, StateConflictError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import {
  type HostJobOutcome,
  isTerminalJobState,
  type Job,
  type JobError,
  type JobState,
} from '../core/model/index.js';
import type { Store } from '../core/store/types.js';

/** The largest agent result copied into the task output; the job record keeps the whole one. */
const MAX_INLINE_RESULT_BYTES = 2048;

const MAX_MESSAGE = 2000;

export const jobError = (code: string, message: string): JobError => ({
  code: code.slice(0, 64),
  message: message.slice(0, MAX_MESSAGE),
});

/** The outcome the workflow sees, from a stored (terminal) job. */
export const outcomeOf = (job: Job): HostJobOutcome => {
  const outcome: HostJobOutcome = { jobId: job.id, hostId: job.hostId, action: job.action, state: job.state };
  if (job.error) outcome.error = job.error;
  if (job.state === 'succeeded' && job.result) {
    const size = Buffer.byteLength(JSON.stringify(job.result));
    outcome.result =
      size <= MAX_INLINE_RESULT_BYTES ? job.result : { truncated: true, bytes: size, see: `job ${job.id}` };
  }
  return outcome;
};

/** Counter names per outcome: errors (for the budget) are failed + timed_out. */
const COUNTER: Partial<Record<JobState, string>> = {
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed_out',
  cancelled: 'skipped',
};

export const errorsIn = (counters: Readonly<Record<string, number>>): number =>
  (counters.failed ?? 0) + (counters.timed_out ?? 0);

export interface Finisher {
  readonly store: Store;
  readonly logger: Logger;
  /** Adds one to the parent's named counter (batched by the shard). */
  readonly count: (counter: string) => void;
}

/**
 * Moves a job to its end state and counts it: the writer whose transition ended the job adds
 * to the parent's counters. A job another relay (or an operator) already ended
 * keeps that ending.
 */
export const finishJob = async (
  job: Job,
  to: JobState,
  fields: { error?: JobError; result?: Record<string, unknown>; startedAt?: string },
  { store, count }: Finisher,
): Promise<Job> => {
  if (isTerminalJobState(job.state)) return job;
  let ended: Job;
  try {
    ended = await store.jobs.transition(job.id, to, fields);
  } catch (error) {
    if (error instanceof StateConflictError && error.current) return error.current as Job;
    throw error;
  }
  const counter = COUNTER[to];
  if (counter) count(counter);
  return ended;
};

export const describe = (error: unknown): JobError => {
  if (isGsmError(error)) return jobError(error.code, error.message);
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return jobError(error.code, (error as { message?: string }).message ?? String(error));
  }
  return jobError('E_INTERNAL', error instanceof Error ? error.message : String(error));
};
