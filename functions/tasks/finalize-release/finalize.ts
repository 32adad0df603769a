import type { Logger } from '../../../core/log.js';
import {
  type FinalizeReleaseEvent,
  type FinalizeReleaseResult,
  type Job,
  RELEASE_JOB_ACTIONS,
  RELEASE_REJECTED_ERROR,
  RELEASE_STOPPED_ERROR,
  type ReleaseState,
  rollbackParentId,
  TERMINAL_RELEASE_STATES,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { allJobs } from '../plan-rollback/rollback.js';

export interface FinalizeReleaseDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

const KEYS: Readonly<Record<Job['state'], string>> = {
  queued: 'notDispatched',
  dispatched: 'inFlight',
  running: 'inFlight',
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timedOut',
  cancelled: 'skipped',
};

const tally = (jobs: readonly Job[], prefix = ''): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const job of jobs) {
    const key = prefix
      ? `${prefix}${KEYS[job.state][0]?.toUpperCase()}${KEYS[job.state].slice(1)}`
      : KEYS[job.state];
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

const whyStopped = (event: FinalizeReleaseEvent, failed: number): string => {
  const { Error: error = 'States.TaskFailed', Cause: cause = '' } = event.stopError ?? {};
  // EvaluateWave's own words travel as the Cause.
  if (error === RELEASE_STOPPED_ERROR) return cause || `${failed} host(s) failed`;
  if (error === RELEASE_REJECTED_ERROR) return `approval rejected${cause ? `: ${cause}` : ''}`;
  return `${error}${cause ? `: ${cause}` : ''}`;
};

/**
 * Finalize: counts the host jobs and ends the release. Within its error budget it succeeded
 * (failed hosts counted); stopped, it is rolled_back when rollback jobs ran, failed otherwise.
 * A release already ended (refused by the planner, cancelled) keeps its state and reason.
 */
export const finalizeRelease = async (
  { store, logger }: FinalizeReleaseDeps,
  event: FinalizeReleaseEvent,
): Promise<FinalizeReleaseResult> => {
  const [deploys, rollbacks] = await Promise.all([
    allJobs(store, event.releaseId),
    event.rolledBack ? allJobs(store, rollbackParentId(event.releaseId)) : Promise.resolve([]),
  ]);
  const counters: Record<string, number> = {
    total: deploys.length,
    ...tally(deploys.filter((job) => job.action === RELEASE_JOB_ACTIONS.deploy)),
    ...tally(rollbacks, 'rollback'),
  };
  const current = await store.releases.get(event.releaseId);
  if (TERMINAL_RELEASE_STATES.includes(current.state)) {
    return {
      releaseId: current.id,
      state: current.state,
      reason: current.reason,
      counters: current.counters,
    };
  }
  const failed = (counters.failed ?? 0) + (counters.timedOut ?? 0);
  let state: ReleaseState = 'succeeded';
  let reason =
    failed > 0 ? `${failed} host(s) failed, within maxErrors ${event.plan?.maxErrors ?? 0}` : undefined;
  if (event.stopError) {
    state = event.rolledBack ? 'rolled_back' : 'failed';
    reason = whyStopped(event, failed);
  }
  const ended = await store.releases.transition(event.releaseId, state, { reason, counters });
  logger?.info({ releaseId: ended.id, state: ended.state, counters }, 'release ended');
  return { releaseId: ended.id, state: ended.state, reason: ended.reason, counters: ended.counters };
};
