import type { Logger } from '../../core/log.js';
import { type Job, type Release, releaseHasEnded, rollbackParentId } from '../../core/model/index.js';
import type { Store } from '../../core/store/types.js';
import { allJobs } from '../tasks/plan-rollback/rollback.js';
import { rememberNewest } from './shared-reads.js';

/** A release's host jobs as read at one moment: deploys (by host id), then rollbacks. */
export interface ReleaseJobs {
  readonly deploys: readonly Job[];
  readonly rollbacks: readonly Job[];
  /** When the read began: nothing in it is older than this. */
  readonly readAt: number;
}

export interface ReleaseJobsViewOptions {
  /** A read this young is served as is. */
  readonly maxAgeMs?: number;
  /** Up to this age a read is still served while a newer one is made in the background. */
  readonly maxStaleMs?: number;
  /**
   * How long after a release record's last change its jobs may still be settling in the
   * by-parent index (a DynamoDB GSI is eventually consistent): only a read begun later than
   * that is final for an ended release.
   */
  readonly settleMs?: number;
  /** Releases remembered at once; the least recently read is dropped first. */
  readonly maxReleases?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export const RELEASE_JOBS_VIEW_DEFAULTS = {
  maxAgeMs: 1_000,
  maxStaleMs: 5_000,
  settleMs: 2_000,
  maxReleases: 200,
} as const;

export interface ReleaseJobsView {
  /** The release's jobs, read no earlier than the record's last change (see the options). */
  jobsOf(release: Pick<Release, 'id' | 'state' | 'updatedAt' | 'rollbackRequestedAt'>): Promise<ReleaseJobs>;
}

/**
 * Jobs per page when the API reads a release's jobs. A single-threaded local DynamoDB answers one
 * request at a time, and a 500-item page held it ~50 ms, so every other API call queued behind
 * each refresh (GET /v1/hosts p99 53 ms with a refresh running, 13.5 ms with pages of 50: measured
 * with 500 jobs on dynalite). The read costs about the same in total; DynamoDB itself caps a page
 * at 1 MB anyway.
 */
export const RELEASE_JOBS_PAGE = 50;

/** Every job of a release, straight from the store. */
export const readReleaseJobs = async (
  store: Store,
  releaseId: string,
  readAt = Date.now(),
): Promise<ReleaseJobs> => {
  const [deploys, rollbacks] = await Promise.all([
    allJobs(store, releaseId, RELEASE_JOBS_PAGE),
    allJobs(store, rollbackParentId(releaseId), RELEASE_JOBS_PAGE),
  ]);
  return { deploys, rollbacks, readAt };
};

/**
 * The jobs of the releases this API process is asked about, read once for all its readers.
 * A 500-host release is 500 job items: reading them for every GET and every event stream's poll
 * made each call cost tens of milliseconds and grow with the fleet, while the console and the CLI
 * poll the same release many times a second. Here a read serves everyone for `maxAgeMs`, then is
 * refreshed in the background while still served (up to `maxStaleMs`), so no caller waits for it.
 * The release record is always read fresh by the caller; a read older than the record's last
 * change is never served, so a state change (a wave, a cancel, the end) shows its jobs as of then.
 */
export const createReleaseJobsView = (
  store: Store,
  options: ReleaseJobsViewOptions = {},
): ReleaseJobsView => {
  const { maxAgeMs, maxStaleMs, settleMs, maxReleases } = { ...RELEASE_JOBS_VIEW_DEFAULTS, ...options };
  const now = options.now ?? Date.now;
  const reads = new Map<string, ReleaseJobs>();
  const pending = new Map<string, Promise<ReleaseJobs>>();
  /** When each pending read began. */
  const pendingSince = new Map<string, number>();

  const remember = (id: string, jobs: ReleaseJobs) => rememberNewest(reads, id, jobs, maxReleases);

  const refresh = (id: string): Promise<ReleaseJobs> => {
    const readAt = now();
    const read = readReleaseJobs(store, id, readAt)
      .then((jobs) => {
        remember(id, jobs);
        return jobs;
      })
      .finally(() => {
        if (pending.get(id) === read) {
          pending.delete(id);
          pendingSince.delete(id);
        }
      });
    pending.set(id, read);
    pendingSince.set(id, readAt);
    return read;
  };

  return {
    async jobsOf(release) {
      const changedAt = Date.parse(release.updatedAt);
      const read = reads.get(release.id);
      if (read && read.readAt >= changedAt) {
        const age = now() - read.readAt;
        if (releaseHasEnded(release) && read.readAt >= changedAt + settleMs) return read;
        if (age < maxAgeMs) return read;
        if (age < maxStaleMs) {
          if (!pending.has(release.id)) {
            refresh(release.id).catch((error: unknown) =>
              options.logger?.warn({ err: error, releaseId: release.id }, 'release jobs refresh failed'),
            );
          }
          return read;
        }
      }
      const inFlight = pending.get(release.id);
      const since = pendingSince.get(release.id);
      if (inFlight && since !== undefined && since >= changedAt) return inFlight;
      return refresh(release.id);
    },
  };
};
