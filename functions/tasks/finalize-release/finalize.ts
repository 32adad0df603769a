import type { Logger } from '../../../core/log.js';
import {
  type FinalizeReleaseEvent,
  type FinalizeReleaseResult,
  type Job,
  RELEASE_CANCELLED_ERROR,
  RELEASE_JOB_ACTIONS,
  RELEASE_REJECTED_ERROR,
  RELEASE_STOPPED_ERROR,
  type Release,
  type ReleaseState,
  ROLLBACK_FROM_STATES,
  rollbackParentId,
  TERMINAL_RELEASE_STATES,
  UNKNOWN_VERSION,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { allJobs } from '../plan-rollback/rollback.js';
import { hostVersions, versionSummary } from './versions.js';

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

const stepText = ({ Error: error, Cause: cause }: { Error?: string; Cause?: string }): string =>
  cause ? `${error ?? 'error'}: ${cause}` : (error ?? 'error');

/**
 * Finalize itself failed (its retries spent): end what it could not, with the error as the
 * reason, so no follower waits forever and the hosts are free. A running release ends failed;
 * an ended one being rolled back keeps its state, the rollback recorded as failed.
 */
const endAfterFinalizeFailed = async (
  { store, logger }: FinalizeReleaseDeps,
  releaseId: string,
  error: { Error?: string; Cause?: string },
): Promise<FinalizeReleaseResult> => {
  const current = await store.releases.get(releaseId);
  const why = `the release could not be finalized: ${stepText(error)}`;
  let ended = current;
  if (!TERMINAL_RELEASE_STATES.includes(current.state)) {
    ended = await store.releases.transition(current.id, 'failed', { reason: why });
  } else if (current.rollbackRequestedAt !== undefined) {
    ended = await store.releases.endRollback(current.id, why);
  }
  await store.hostLocks.release(current.id, current.hostIds);
  logger?.error({ releaseId, state: ended.state, err: error }, 'release finalize failed');
  return { releaseId, state: ended.state, reason: why, counters: ended.counters };
};

const whyStopped = (event: FinalizeReleaseEvent, failed: number): string => {
  const { Error: error = 'States.TaskFailed', Cause: cause = '' } = event.stopError ?? {};
  // EvaluateWave's own words travel as the Cause.
  if (error === RELEASE_STOPPED_ERROR) return cause || `${failed} host(s) failed`;
  if (error === RELEASE_REJECTED_ERROR) return `approval rejected${cause ? `: ${cause}` : ''}`;
  if (error === RELEASE_CANCELLED_ERROR) return cause || 'cancelled by an operator';
  return `${error}${cause ? `: ${cause}` : ''}`;
};

/**
 * Finalize: counts the host jobs, records which version each host ended on, ends the release
 * and gives its hosts' locks back. Within its error budget it succeeded (failed hosts counted);
 * stopped, it is rolled_back when rollback jobs ran, failed otherwise; cancelled when an
 * operator's cancel stopped it. A release already ended (refused by the planner, cancelled
 * while pending) keeps its state and reason. In rollback mode (an ended release rolled back
 * later) it moves succeeded/failed to rolled_back.
 */
export const finalizeRelease = async (
  deps: FinalizeReleaseDeps,
  event: FinalizeReleaseEvent,
): Promise<FinalizeReleaseResult> => {
  if (event.finalizeError) return endAfterFinalizeFailed(deps, event.releaseId, event.finalizeError);
  const { store, logger } = deps;
  const rolledBack = event.rolledBack || event.mode === 'rollback';
  const [deploys, rollbacks, current] = await Promise.all([
    allJobs(store, event.releaseId),
    rolledBack ? allJobs(store, rollbackParentId(event.releaseId)) : Promise.resolve([]),
    store.releases.get(event.releaseId),
  ]);
  const counters: Record<string, number> = {
    total: deploys.length,
    ...tally(deploys.filter((job) => job.action === RELEASE_JOB_ACTIONS.deploy)),
    ...tally(rollbacks, 'rollback'),
  };
  // Whatever happens next, the hosts are free again: this release changes nothing more.
  const free = () => store.hostLocks.release(current.id, current.hostIds);
  if (TERMINAL_RELEASE_STATES.includes(current.state) && event.mode !== 'rollback') {
    await free();
    return {
      releaseId: current.id,
      state: current.state,
      reason: current.reason,
      counters: current.counters,
    };
  }
  const versions = await hostVersions(store, current, deploys, rollbacks);
  // Every target host is counted; only the hosts whose version is known are named.
  const summary = {
    versions: versionSummary(versions),
    hostVersions: Object.fromEntries(Object.entries(versions).filter(([, v]) => v !== UNKNOWN_VERSION)),
  };
  const failed = (counters.failed ?? 0) + (counters.timedOut ?? 0);
  let ended: Release;
  if (event.mode === 'rollback') {
    const back = counters.rollbackSucceeded ?? 0;
    const failure = event.rollbackError ? `the rollback failed: ${stepText(event.rollbackError)}` : undefined;
    if (failure && back === 0) {
      // No host went back: the release keeps its state, and says why the rollback did not run.
      const kept = await store.releases.endRollback(current.id, failure);
      await free();
      logger?.warn({ releaseId: kept.id, state: kept.state, failure }, 'release rollback failed');
      return { releaseId: kept.id, state: kept.state, reason: failure, counters: kept.counters };
    }
    const reason = `rolled back by an operator: ${back} of ${rollbacks.length} host(s) back on their previous version${failure ? `; ${failure}` : ''}`;
    ended = await store.releases.transition(
      current.id,
      'rolled_back',
      { reason, counters: { ...current.counters, ...counters }, ...summary },
      ROLLBACK_FROM_STATES,
    );
  } else {
    let state: ReleaseState = 'succeeded';
    let reason =
      failed > 0 ? `${failed} host(s) failed, within maxErrors ${event.plan?.maxErrors ?? 0}` : undefined;
    if (event.stopError && current.cancelRequestedAt) {
      state = 'cancelled';
      const back = rolledBack ? `; ${counters.rollbackSucceeded ?? 0} host(s) rolled back` : '';
      reason = `${current.cancelReason ?? 'cancelled by an operator'}${back}`;
    } else if (event.stopError) {
      state = rolledBack ? 'rolled_back' : 'failed';
      reason = whyStopped(event, failed);
    } else if (current.cancelRequestedAt) {
      reason = `${reason ? `${reason}; ` : ''}the cancel came after the last wave: nothing to stop`;
    }
    ended = await store.releases.transition(current.id, state, { reason, counters, ...summary });
  }
  await free();
  logger?.info(
    { releaseId: ended.id, state: ended.state, counters, versions: summary.versions },
    'release ended',
  );
  return { releaseId: ended.id, state: ended.state, reason: ended.reason, counters: ended.counters };
};
