import { z } from '@hono/zod-openapi';
import { executionConsoleUrl } from '../../../core/console-link.js';
import { Job, type JobState, Release } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { type ReleaseJobs, type ReleaseJobsView, readReleaseJobs } from '../release-jobs-view.js';
import { createSharedReads, type SharedReads, type SharedReadsOptions } from '../shared-reads.js';

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

/**
 * A host job as the release detail lists it: where it is, not what it was given or printed. At
 * 500 hosts the whole records (params, results, log tails) made each poll ~4× larger; they are at
 * GET /v1/jobs/:id, GET /v1/releases/:id/jobs and in the event stream's `job` events.
 */
export const ReleaseJobSummary = Job.pick({
  id: true,
  parentId: true,
  hostId: true,
  action: true,
  state: true,
  progress: true,
  error: true,
  startedAt: true,
  endedAt: true,
  updatedAt: true,
});
export type ReleaseJobSummary = z.infer<typeof ReleaseJobSummary>;

/** A release with its waves, every host job (deploys, then rollbacks) and how many are in each state. */
export const ReleaseDetail = ReleaseSummary.extend({
  jobs: z.array(ReleaseJobSummary),
  /** When the jobs (and the progress counted from them) were read: they may lag the record by a second. */
  jobsReadAt: z.string(),
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

/** The release's summary with its whole job records, as the event stream sends them. */
export interface ReleaseSnapshot {
  readonly summary: ReleaseSummary;
  readonly jobs: readonly Job[];
  readonly jobsReadAt: string;
}

/** Where a release's detail is read from: shared reads of this process, or straight from the store. */
export interface ReleaseReads {
  /** The jobs, shared (at most a second old). */
  readonly jobsView?: ReleaseJobsView;
  /** The records, shared for a fraction of a second (see `releaseRecordReads`). */
  readonly records?: SharedReads<Release>;
}

/**
 * Each release record read once for every poller of this process within 250 ms, then refreshed
 * in the background while served (up to 2 s). Read for each call, the record was what made
 * GET /v1/releases/:id slow during a release: its p99 was the local DynamoDB's queue behind the
 * release's own writes (46 ms, up to 180 ms, at 100 hosts; bench/RESULTS.md). The workflow's
 * changes show within that age; the API's own writes at once, since its routes invalidate it.
 */
export const releaseRecordReads = (options: SharedReadsOptions = {}): SharedReads<Release> =>
  createSharedReads<Release>({ maxAgeMs: 250, maxStaleMs: 2_000, ...options });

/**
 * The release and its jobs; NotFoundError for an unknown id. Without `reads` both come straight
 * from the store.
 */
export const releaseSnapshot = async (
  store: Store,
  id: string,
  reads: ReleaseReads = {},
): Promise<ReleaseSnapshot> => {
  const { jobsView, records } = reads;
  const record = records
    ? (await records.get(id, () => store.releases.get(id))).value
    : await store.releases.get(id);
  const jobs = jobsView ? await jobsView.jobsOf(record) : await readReleaseJobs(store, record.id);
  return snapshotOf(record, jobs);
};

/**
 * Built once per pair of shared reads: pollers many times a second get the same record and jobs
 * objects back, and mapping 500 jobs for each poll was ~5 % of the API's CPU in the release bench.
 * Keyed weakly by the reads themselves, so nothing outlives them.
 */
const snapshots = new WeakMap<Release, WeakMap<ReleaseJobs, ReleaseSnapshot>>();

const snapshotOf = (record: Release, jobs: ReleaseJobs): ReleaseSnapshot => {
  let byJobs = snapshots.get(record);
  const known = byJobs?.get(jobs);
  if (known) return known;
  const release = withoutToken(record);
  const { deploys, rollbacks, readAt } = jobs;
  const byHost = new Map(deploys.map((job) => [job.hostId, job]));
  const waves = release.waves.map((wave) => ({
    ...wave,
    progress: progressOf(wave.hostIds.flatMap((hostId) => byHost.get(hostId) ?? [])),
  }));
  const consoleUrl = executionConsoleUrl(release.executionArn);
  const snapshot: ReleaseSnapshot = {
    summary: { ...release, waves, progress: progressOf(deploys), ...(consoleUrl ? { consoleUrl } : {}) },
    jobs: [...deploys, ...rollbacks],
    jobsReadAt: new Date(readAt).toISOString(),
  };
  if (!byJobs) {
    byJobs = new WeakMap();
    snapshots.set(record, byJobs);
  }
  byJobs.set(jobs, snapshot);
  return snapshot;
};

const jobSummary = (job: Job): ReleaseJobSummary => {
  const { id, parentId, hostId, action, state, progress, error, startedAt, endedAt, updatedAt } = job;
  return {
    id,
    parentId,
    hostId,
    action,
    state,
    updatedAt,
    ...(progress ? { progress } : {}),
    ...(error ? { error } : {}),
    ...(startedAt ? { startedAt } : {}),
    ...(endedAt ? { endedAt } : {}),
  };
};

const details = new WeakMap<ReleaseSnapshot, ReleaseDetail>();

/** The release as GET /v1/releases/:id shows it; NotFoundError for an unknown id. */
export const releaseDetail = async (
  store: Store,
  id: string,
  reads: ReleaseReads = {},
): Promise<ReleaseDetail> => {
  const snapshot = await releaseSnapshot(store, id, reads);
  const known = details.get(snapshot);
  if (known) return known;
  const { summary, jobs, jobsReadAt } = snapshot;
  const detail = { ...summary, jobs: jobs.map(jobSummary), jobsReadAt };
  details.set(snapshot, detail);
  return detail;
};
