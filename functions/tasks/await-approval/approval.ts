import type { Logger } from '../../../core/log.js';
import type { AwaitApprovalEvent } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';

export interface AwaitApprovalDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

/**
 * AwaitApproval (a `.waitForTaskToken` task): parks the release in waiting_approval with the
 * token that approve or reject completes. The state waits on the token, not on this result.
 */
export const awaitApproval = async (
  { store, logger }: AwaitApprovalDeps,
  event: AwaitApprovalEvent,
): Promise<{ releaseId: string; wave: number }> => {
  await store.releases.transition(
    event.releaseId,
    'waiting_approval',
    { approvalToken: event.taskToken, approvalWave: event.wave },
    ['running', 'waiting_approval'],
  );
  logger?.info({ releaseId: event.releaseId, wave: event.wave }, 'release waiting for approval');
  return { releaseId: event.releaseId, wave: event.wave };
};
