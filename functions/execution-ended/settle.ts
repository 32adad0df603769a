import { NotFoundError, StateConflictError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import {
  ExecutionStatusChangeEvent,
  isTerminalActionState,
  packageId,
  rollbackExecutionName,
  TERMINAL_RELEASE_STATES,
  UNFINISHED_EXECUTION_STATUSES,
} from '../../core/model/index.js';
import type { Store } from '../../core/store/types.js';

/**
 * An execution that ended without reaching its own last task (stopped by hand in the console,
 * timed out, failed outside every Catch) leaves its record unfinished: a release running with
 * its hosts locked (every later release on them refused as busy), an action running, a package
 * verifying or staging (neither of which can be deleted). This settles what the workflow could
 * not: the record ends with why, the hosts are free. It acts only on the record that execution
 * was running, and only while that record is unfinished, so a redelivered event, a late event
 * for an older rollback attempt, or an event for a run that did finalize changes nothing.
 */

export interface SettleDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

export type SettleOutcome =
  | {
      readonly settled: 'release' | 'rollback' | 'action' | 'package';
      readonly id: string;
      readonly reason: string;
    }
  | { readonly settled: 'nothing'; readonly why: string };

interface ExecutionInput {
  readonly releaseId?: unknown;
  readonly actionId?: unknown;
  readonly mode?: unknown;
  /** An intake's (IntakeInput): the package is named by the upload, or by game and version. */
  readonly kind?: unknown;
  readonly packageId?: unknown;
  readonly game?: unknown;
  readonly version?: unknown;
}

const parseInput = (raw: string | null | undefined): ExecutionInput | undefined => {
  if (!raw) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null ? (value as ExecutionInput) : undefined;
  } catch {
    return undefined;
  }
};

const endedHow = ({ name, status, error, cause }: ExecutionStatusChangeEvent['detail']): string => {
  const detail = [error, cause].filter(Boolean).join(': ');
  return `the workflow execution ${name} ended ${status}${detail ? ` (${detail})` : ''}`;
};

const nothing = (why: string): SettleOutcome => ({ settled: 'nothing', why });

/** The record, or undefined when it is gone (removed since, or never written). */
const unlessMissing = async <T>(read: Promise<T>): Promise<T | undefined> =>
  read.catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });

/** A record another writer ended meanwhile is as good as settled. */
const unlessConflict = async <T>(write: Promise<T>): Promise<T | undefined> =>
  write.catch((error: unknown) => {
    if (error instanceof StateConflictError) return undefined;
    throw error;
  });

const settleRelease = async (
  { store, logger }: SettleDeps,
  detail: ExecutionStatusChangeEvent['detail'],
  releaseId: string,
  rollback: boolean,
): Promise<SettleOutcome> => {
  const release = await unlessMissing(store.releases.get(releaseId));
  if (!release) return nothing(`release ${releaseId} does not exist`);
  if (rollback) {
    if (release.rollbackRequestedAt === undefined) return nothing('no rollback of it is pending');
    // Each rollback attempt is its own execution: a late event for an older one must not end a newer one.
    if (detail.name !== rollbackExecutionName(release.id, release.rollbackAttempts)) {
      return nothing(`execution ${detail.name} is not the pending rollback`);
    }
    const reason = `${endedHow(detail)} before the rollback finished`;
    await store.releases.endRollback(release.id, reason);
    await store.hostLocks.release(release.id, release.hostIds);
    logger?.warn({ releaseId, executionArn: detail.executionArn, reason }, 'unfinished rollback settled');
    return { settled: 'rollback', id: release.id, reason };
  }
  if (release.executionArn ? release.executionArn !== detail.executionArn : detail.name !== release.id) {
    return nothing(`execution ${detail.name} is not the one running release ${release.id}`);
  }
  if (TERMINAL_RELEASE_STATES.includes(release.state))
    return nothing(`release ${release.id} is ${release.state}`);
  const cancelled = release.cancelRequestedAt !== undefined;
  const reason = `${endedHow(detail)} before the release was finalized${
    cancelled ? `; ${release.cancelReason ?? 'cancelled by an operator'}` : ''
  }`;
  await unlessConflict(store.releases.transition(release.id, cancelled ? 'cancelled' : 'failed', { reason }));
  await store.hostLocks.release(release.id, release.hostIds);
  logger?.warn({ releaseId, executionArn: detail.executionArn, reason }, 'unfinished release settled');
  return { settled: 'release', id: release.id, reason };
};

const settleAction = async (
  { store, logger }: SettleDeps,
  detail: ExecutionStatusChangeEvent['detail'],
  actionId: string,
): Promise<SettleOutcome> => {
  const action = await unlessMissing(store.actions.get(actionId));
  if (!action) return nothing(`action ${actionId} does not exist`);
  if (action.executionArn ? action.executionArn !== detail.executionArn : detail.name !== action.id) {
    return nothing(`execution ${detail.name} is not the one running action ${action.id}`);
  }
  if (isTerminalActionState(action.state)) return nothing(`action ${action.id} is ${action.state}`);
  const reason = `${endedHow(detail)} before the results were recorded`;
  await unlessConflict(store.actions.transition(action.id, 'failed', { reason }));
  logger?.warn({ actionId, executionArn: detail.executionArn, reason }, 'unfinished action settled');
  return { settled: 'action', id: action.id, reason };
};

/** The intake's package, when the input names one. */
const intakePackageId = (input: ExecutionInput): string | undefined => {
  if (input.kind === 'upload' && typeof input.packageId === 'string') return input.packageId;
  if (input.kind === 'incoming' && typeof input.game === 'string' && typeof input.version === 'string') {
    return packageId(input.game, input.version);
  }
  return undefined;
};

/**
 * Nobody claimed the verification, so any intake naming the package could have been registering
 * it, except one that ended before the package existed: a late or redelivered event of an
 * earlier package with the same id (rejected, deleted and pushed again). The margin is far wider
 * than the skew between the clocks of Step Functions and of the function that created the record,
 * so the intake that did register a package is never taken for an earlier one.
 */
const CLOCK_MARGIN_MS = 60_000;

const endedBeforeCreated = (detail: ExecutionStatusChangeEvent['detail'], createdAt: string): boolean =>
  typeof detail.stopDate === 'number' && detail.stopDate < Date.parse(createdAt) - CLOCK_MARGIN_MS;

/**
 * A package left `staging` by the execution that staged it goes back to `verified` with why:
 * it stays usable (and deletable) instead of staging forever. One left `verifying` is rejected
 * with why (it may be deleted and pushed again), if this execution held its verification, or
 * none did and it had not ended before the package was created: a second intake of the same
 * package that claimed it is left to finish it.
 */
const settlePackage = async (
  { store, logger }: SettleDeps,
  detail: ExecutionStatusChangeEvent['detail'],
  id: string,
): Promise<SettleOutcome> => {
  const pkg = await unlessMissing(store.packages.get(id));
  if (!pkg) return nothing(`package ${id} does not exist`);
  if (pkg.state === 'verifying') {
    if (pkg.verifyingExecution !== undefined && pkg.verifyingExecution !== detail.name) {
      return nothing(`execution ${detail.name} is not the one verifying package ${id}`);
    }
    if (pkg.verifyingExecution === undefined && endedBeforeCreated(detail, pkg.createdAt)) {
      return nothing(`execution ${detail.name} ended before package ${id} was created`);
    }
    const reason = `verification did not finish: ${endedHow(detail)}; delete the package and push it again`;
    const rejected = await unlessConflict(
      store.packages.transition(id, 'rejected', { reason }, { verifier: detail.name }),
    );
    // Another intake claimed it meanwhile, or settled it first with its own reason.
    if (rejected?.reason !== reason) return nothing(`package ${id} was settled by another intake`);
    logger?.warn(
      { packageId: id, executionArn: detail.executionArn, reason },
      'unfinished verification settled',
    );
    return { settled: 'package', id, reason };
  }
  if (pkg.state !== 'staging') return nothing(`package ${id} is ${pkg.state}`);
  if (pkg.stagingExecution !== detail.name) {
    return nothing(`execution ${detail.name} is not the one staging package ${id}`);
  }
  const reason = `staging did not finish: ${endedHow(detail)}`;
  await unlessConflict(store.packages.transition(id, 'verified', { reason }));
  logger?.warn({ packageId: id, executionArn: detail.executionArn, reason }, 'unfinished staging settled');
  return { settled: 'package', id, reason };
};

export const settleEndedExecution = async (
  deps: SettleDeps,
  event: ExecutionStatusChangeEvent,
): Promise<SettleOutcome> => {
  const { detail } = event;
  if (!(UNFINISHED_EXECUTION_STATUSES as readonly string[]).includes(detail.status)) {
    return nothing(`the execution is ${detail.status}`);
  }
  const input = parseInput(detail.input);
  if (typeof input?.releaseId === 'string') {
    return settleRelease(deps, detail, input.releaseId, input.mode === 'rollback');
  }
  if (typeof input?.actionId === 'string') return settleAction(deps, detail, input.actionId);
  const pkg = input && intakePackageId(input);
  if (pkg) return settlePackage(deps, detail, pkg);
  return nothing('the execution ran no release, action or intake');
};

/**
 * The Lambda's work: a malformed event is logged and dropped (a retry cannot fix it); a store
 * failure throws, so EventBridge retries and, past its retries, keeps the event in the queue.
 */
export const handleExecutionEnded = async (deps: SettleDeps, event: unknown): Promise<SettleOutcome> => {
  const parsed = ExecutionStatusChangeEvent.safeParse(event);
  if (!parsed.success) {
    deps.logger?.error({ issues: parsed.error.issues }, 'invalid execution status event dropped');
    return nothing('not a Step Functions execution status change');
  }
  const outcome = await settleEndedExecution(deps, parsed.data);
  if (outcome.settled === 'nothing') {
    deps.logger?.debug(
      { executionArn: parsed.data.detail.executionArn, why: outcome.why },
      'nothing to settle',
    );
  }
  return outcome;
};
