import { GsmError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import { type AwaitApprovalEvent, RELEASE_CANCELLED_ERROR } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';

export interface AwaitApprovalDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

/** Thrown instead of parking a cancelled release: the gate fails and the release rolls back. */
export class ReleaseCancelledError extends GsmError {
  constructor(reason: string) {
    super('E_STATE_CONFLICT', reason);
    this.name = RELEASE_CANCELLED_ERROR;
  }
}

/**
 * AwaitApproval (a `.waitForTaskToken` task): parks the release in waiting_approval with the
 * token that approve or reject completes. The state waits on the token, not on this result.
 */
export const awaitApproval = async (
  { store, logger }: AwaitApprovalDeps,
  event: AwaitApprovalEvent,
): Promise<{ releaseId: string; wave: number }> => {
  const before = await store.releases.get(event.releaseId);
  if (before.cancelRequestedAt) throw new ReleaseCancelledError(before.cancelReason ?? 'cancelled');
  const parked = await store.releases.transition(
    event.releaseId,
    'waiting_approval',
    { approvalToken: event.taskToken, approvalWave: event.wave },
    ['running', 'waiting_approval'],
  );
  // A cancel between the read and the park saw the release running and failed no gate: undo.
  if (parked.cancelRequestedAt) {
    await store.releases.transition(event.releaseId, 'running', {}, ['waiting_approval']);
    throw new ReleaseCancelledError(parked.cancelReason ?? 'cancelled');
  }
  logger?.info({ releaseId: event.releaseId, wave: event.wave }, 'release waiting for approval');
  return { releaseId: event.releaseId, wave: event.wave };
};
