import { z } from '@hono/zod-openapi';
import { executionConsoleUrl } from '../../../core/console-link.js';
import { Job, type JobState, Release } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { type ReleaseJobsView, readReleaseJobs } from '../release-jobs-view.js';

const WaveView = z.object({
  index: z.number().int(),
  kind: z.string(),
  gate: z.boolean(),
  hostIds: z.array(z.string()),
  /** Jobs of this wave per state. */
  progress: z.record(z.string(), z.number()),
});

/** A release without its jobs: the record (never the gate's token), waves with progress, the console link. */
export const ReleaseSummary = Release.omit({ approvalToken: true }).extend({
  waves: z.array(WaveView),
  progress: z.record(z.string(), z.number()),
  /** The AWS console page of the execution, when AWS runs it. */
  consoleUrl: z.string().optional(),
});
export type ReleaseSummary = z.infer<typeof ReleaseSummary>;

/** A release with its waves, every host job (deploys, then rollbacks) and how many are in each state. */
export const ReleaseDetail = ReleaseSummary.extend({
  jobs: z.array(Job),
  /** When the jobs (and the progress counted from them) were read: they may lag the record by a second. */
  jobsReadAt: z.string().optional(),
});
export type ReleaseDetail = z.infer<typeof ReleaseDetail>;

export const withoutToken = ({
  approvalToken: _token,
  ...release
}: Release): Omit<Release, 'approvalToken'> => release;

const progressOf = (jobs: readonly Job[]): Record<string, number> => {
  const progress: Partial<Record<JobState | 'total', number>> = { total: jobs.length };
  for (const job of jobs) progress[job.state] = (progress[job.state] ?? 0) + 1;
  return progress;
};

/**
 * The release as GET /v1/releases/:id and the event stream show it; NotFoundError for an unknown
 * id. The record is always read; the jobs come from `jobsView` when given (shared, at most a
 * second old), else straight from the store.
 */
export const releaseDetail = async (
  store: Store,
  id: string,
  jobsView?: ReleaseJobsView,
): Promise<ReleaseDetail> => {
  const release = withoutToken(await store.releases.get(id));
  const { deploys, rollbacks, readAt } = jobsView
    ? await jobsView.jobsOf(release)
    : await readReleaseJobs(store, release.id);
  const byHost = new Map(deploys.map((job) => [job.hostId, job]));
  const waves = release.waves.map((wave) => ({
    ...wave,
    progress: progressOf(wave.hostIds.flatMap((hostId) => byHost.get(hostId) ?? [])),
  }));
  const consoleUrl = executionConsoleUrl(release.executionArn);
  return {
    ...release,
    waves,
    progress: progressOf(deploys),
    ...(consoleUrl ? { consoleUrl } : {}),
    jobs: [...deploys, ...rollbacks],
    jobsReadAt: new Date(readAt).toISOString(),
  };
};
