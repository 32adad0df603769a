import { StateConflictError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import {
  ACTION_JOB_ERRORS,
  type ActionState,
  isTerminalActionState,
  isTerminalJobState,
  type Job,
  type JobError,
  type RecordActionEvent,
  type RecordActionResult,
  resolveMaxErrors,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';

export interface RecordDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

type StepError = { Error?: string | undefined; Cause?: string | undefined };

const TIMEOUTS = new Set(['States.Timeout', 'States.HeartbeatTimeout']);

/** A Lambda failure's Cause is the runtime's JSON; people want its errorMessage. */
const causeText = (error: StepError): string => {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause as given.
  }
  return cause || error.Error || 'unknown error';
};

const allJobs = async (store: Store, parentId: string): Promise<Job[]> => {
  const jobs: Job[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.jobs.listByParent(parentId, { limit: 500, cursor });
    jobs.push(...page.items);
    cursor = page.next;
  } while (cursor !== null);
  return jobs;
};

/** How a job still open at the end is closed, given why its shard did not finish it. */
const closing = (event: RecordActionEvent): { state: 'failed' | 'timed_out'; error: JobError } => {
  if (event.planError) {
    return {
      state: 'failed',
      error: { code: 'E_PLAN_FAILED', message: `planning failed: ${causeText(event.planError)}` },
    };
  }
  const failed = event.shardResults.find((r) => 'error' in r);
  if (failed && 'error' in failed) {
    const timedOut = TIMEOUTS.has(failed.error.Error ?? '');
    return {
      state: timedOut ? 'timed_out' : 'failed',
      error: {
        code: ACTION_JOB_ERRORS.relayFailed,
        message: timedOut
          ? 'no relay finished this host’s shard in time (relays stopped heartbeating or the shard timed out)'
          : `the relay failed this host’s shard: ${failed.error.Error ?? 'error'}: ${causeText(failed.error)}`.slice(
              0,
              2000,
            ),
      },
    };
  }
  return {
    state: 'failed',
    error: {
      code: ACTION_JOB_ERRORS.lost,
      message: 'the relay finished its shard without finishing this job',
    },
  };
};

export const countJobs = (jobs: readonly Job[]): Record<string, number> => {
  const counters: Record<string, number> = {
    total: jobs.length,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    cancelled: 0,
  };
  for (const job of jobs) {
    const name = job.state === 'timed_out' ? 'timedOut' : job.state;
    counters[name] = (counters[name] ?? 0) + 1;
  }
  return counters;
};

/**
 * RecordResults: closes the jobs a failed shard left open, counts every job's outcome and
 * settles the action the way SSM Run Command settles a command: failed once more hosts failed
 * (or timed out) than maxErrors allows, succeeded otherwise. Safe to retry.
 */
export const recordAction = async (
  { store, logger }: RecordDeps,
  event: RecordActionEvent,
): Promise<RecordActionResult> => {
  const action = await store.actions.get(event.actionId);
  if (isTerminalActionState(action.state)) {
    return { actionId: action.id, state: action.state, reason: action.reason, counters: action.counters };
  }

  const jobs = await allJobs(store, action.id);
  const close = closing(event);
  const settled = await Promise.all(
    jobs.map(async (job) => {
      if (isTerminalJobState(job.state)) return job;
      try {
        return await store.jobs.transition(job.id, close.state, { error: close.error });
      } catch (error) {
        // The relay finished it meanwhile: its outcome stands.
        if (error instanceof StateConflictError && error.current) return error.current as Job;
        throw error;
      }
    }),
  );

  const counters = countJobs(settled);
  const total = counters.total ?? 0;
  const errors = (counters.failed ?? 0) + (counters.timedOut ?? 0);
  const maxErrors = resolveMaxErrors(action.strategy.maxErrors, total);
  const skipped = counters.cancelled ?? 0;
  let state: ActionState;
  let reason: string | undefined;
  if (event.planError) {
    state = 'failed';
    reason = `planning failed: ${causeText(event.planError)}`;
  } else if (total === 0) {
    state = 'failed';
    reason = 'the action has no host jobs';
  } else if (errors > maxErrors) {
    state = 'failed';
    reason =
      `${errors} of ${total} hosts failed, more than maxErrors (${maxErrors}) allows` +
      (skipped > 0 ? `; ${skipped} not dispatched` : '');
  } else {
    state = 'succeeded';
    reason = errors > 0 ? `${errors} of ${total} hosts failed, within maxErrors (${maxErrors})` : undefined;
  }
  const done = await store.actions.transition(action.id, state, { counters, ...(reason ? { reason } : {}) });
  logger?.info({ actionId: action.id, state: done.state, counters }, 'action recorded');
  return { actionId: done.id, state: done.state, reason: done.reason, counters: done.counters };
};
