import { ROLLBACK_FROM_STATES, TERMINAL_RELEASE_STATES } from '../../../core/model/index.js';
import type { ApiClient, ReleaseDetailView } from '../../client.js';
import { ApiError, UserError } from '../../errors.js';

/** Ended for good: a succeeded or failed release that is being rolled back still changes. */
export const isEnded = (detail: { state: string; rollbackRequestedAt?: string }): boolean =>
  (TERMINAL_RELEASE_STATES as readonly string[]).includes(detail.state) &&
  !(
    detail.rollbackRequestedAt !== undefined &&
    (ROLLBACK_FROM_STATES as readonly string[]).includes(detail.state)
  );

export interface FollowOptions {
  readonly intervalMs?: number;
  /** Polls that may fail in a row (the API restarting) before following gives up. */
  readonly maxMisses?: number;
  /** Stops following (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/**
 * Polls the release each second until it ends, telling `onUpdate` every answer. A failed poll
 * is retried: a live view must outlast a blip of the API, but not wait forever on a dead one.
 */
export const followRelease = async (
  api: ApiClient,
  id: string,
  onUpdate: (detail: ReleaseDetailView) => void,
  { intervalMs = 1000, maxMisses = 10, signal }: FollowOptions = {},
): Promise<ReleaseDetailView> => {
  let misses = 0;
  for (;;) {
    signal?.throwIfAborted();
    let detail: ReleaseDetailView | undefined;
    try {
      detail = await api.releases.get(id);
      misses = 0;
    } catch (error) {
      // A refusal (404, 401) will not change on retry; an unreachable or failing API might.
      const transient = error instanceof ApiError ? error.status >= 500 : error instanceof UserError;
      if (!transient) throw error;
      misses += 1;
      if (misses > maxMisses) throw error;
    }
    if (detail) {
      onUpdate(detail);
      if (isEnded(detail)) return detail;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};
