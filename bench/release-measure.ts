// What the release bench reads back after a release: the execution's own start → stop, each
// wave's slowest host from the deploy job records, and the execution history (paged).
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Job } from '../core/model/index.js';
import type { Store } from '../core/store/types.js';
import { p99 } from './processes.js';

export interface WaveMeasure {
  readonly size: number;
  /** The longest deploy job of the wave, startedAt → endedAt. */
  readonly slowestMs: number;
  /** The wave's first job start → its last job end. */
  readonly spanMs: number;
  /** The previous wave's last job end (the execution start for the first) → this wave's first job start. */
  readonly gapBeforeMs: number;
}

export interface ReleaseMeasure {
  readonly releaseId: string;
  readonly hosts: number;
  readonly sizeMb: number;
  readonly state: string;
  readonly succeeded: number;
  readonly wallMs: number;
  readonly sumSlowestMs: number;
  readonly ratio: number;
  readonly waves: readonly WaveMeasure[];
  readonly events: number;
  /** StateEntered events: what AWS bills as state transitions. */
  readonly transitions: number;
  /** History events by type. */
  readonly eventTypes: Readonly<Record<string, number>>;
  readonly releaseP99: number;
  readonly releasePolls: number;
  readonly hostsP99: number;
  readonly hostsPolls: number;
}

const at = (iso: string | undefined): number => (iso ? Date.parse(iso) : Number.NaN);
/** A job that ended has endedAt; otherwise its last update is as far as it got. */
const endOf = (job: Job) => at(job.endedAt ?? job.updatedAt);

export const measureRelease = async (options: {
  readonly store: Store;
  readonly sfn: SFNClient;
  readonly releaseId: string;
  readonly hosts: number;
  readonly latencies: { readonly release: readonly number[]; readonly hosts: readonly number[] };
}): Promise<ReleaseMeasure> => {
  const { store, sfn, releaseId } = options;
  const release = await store.releases.get(releaseId);
  const pkg = await store.packages.get(release.packageId);
  const executionArn = release.executionArn;
  if (!executionArn) throw new Error(`release ${releaseId} has no execution`);
  // Finalize records the end a moment before the execution itself stops.
  let execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  for (let tries = 0; execution.status === 'RUNNING' && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  }
  const started = execution.startDate?.getTime() ?? Number.NaN;
  const wallMs = (execution.stopDate?.getTime() ?? Number.NaN) - started;

  const jobs: Job[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.jobs.listByParent(releaseId, { limit: 500, cursor });
    jobs.push(...page.items);
    cursor = page.next;
  } while (cursor !== null);
  const deploys = new Map(jobs.filter((job) => job.action === 'deploy').map((job) => [job.hostId, job]));

  let previousEnd = started;
  const waves = release.waves.map((wave): WaveMeasure => {
    const ran = wave.hostIds.flatMap((id) => {
      const job = deploys.get(id);
      return job?.startedAt ? [job] : [];
    });
    const firstStart = Math.min(...ran.map((job) => at(job.startedAt)));
    const lastEnd = Math.max(...ran.map(endOf));
    const measure = {
      size: wave.hostIds.length,
      slowestMs: Math.max(0, ...ran.map((job) => endOf(job) - at(job.startedAt))),
      spanMs: lastEnd - firstStart,
      gapBeforeMs: firstStart - previousEnd,
    };
    previousEnd = lastEnd;
    return measure;
  });
  const sumSlowestMs = waves.reduce((sum, wave) => sum + wave.slowestMs, 0);

  let events = 0;
  let transitions = 0;
  const eventTypes: Record<string, number> = {};
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    for (const event of page.events ?? []) {
      events++;
      const type = event.type ?? 'unknown';
      eventTypes[type] = (eventTypes[type] ?? 0) + 1;
      if (event.type?.endsWith('StateEntered')) transitions++;
    }
    nextToken = page.nextToken;
  } while (nextToken);

  return {
    releaseId,
    hosts: options.hosts,
    sizeMb: Math.round(pkg.size / 2 ** 20),
    state: release.state,
    succeeded: [...deploys.values()].filter((job) => job.state === 'succeeded').length,
    wallMs,
    sumSlowestMs,
    ratio: wallMs / sumSlowestMs,
    waves,
    events,
    transitions,
    eventTypes,
    releaseP99: p99(options.latencies.release),
    releasePolls: options.latencies.release.length,
    hostsP99: p99(options.latencies.hosts),
    hostsPolls: options.latencies.hosts.length,
  };
};
