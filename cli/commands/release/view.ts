import type { ReleaseDetailView, ReleaseView } from '../../client.js';
import type { Column, Output } from '../../output.js';
import { isEnded } from './follow.js';

/** How people see releases: the list, one release, the live view and the final summary. */

type Job = ReleaseDetailView['jobs'][number];
type Wave = ReleaseDetailView['waves'][number];

export const targetText = (target: ReleaseView['target']): string =>
  'hosts' in target
    ? target.hosts.join(',')
    : Object.entries(target.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');

const count = (counters: Record<string, number>, key: string): number => counters[key] ?? 0;

export const RELEASE_COLUMNS: readonly Column<ReleaseView>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'PACKAGE', value: (r) => `${r.game}@${r.version}` },
  { header: 'TARGET', value: (r) => targetText(r.target) },
  { header: 'STATE', value: (r) => r.state },
  { header: 'HOSTS', value: (r) => r.hostIds.length || undefined },
  {
    header: 'FAILED',
    value: (r) => count(r.counters, 'failed') + count(r.counters, 'timedOut') || undefined,
  },
  { header: 'REASON', value: (r) => r.reason },
  { header: 'CREATED', value: (r) => r.createdAt },
];

/** Each host's deploy job and, when it was rolled back, its rollback job. */
export interface HostRow {
  readonly hostId: string;
  readonly wave: number;
  readonly deploy?: Job;
  readonly rollback?: Job;
}

export const hostRows = (detail: ReleaseDetailView): HostRow[] => {
  const deploys = new Map<string, Job>();
  const rollbacks = new Map<string, Job>();
  for (const job of detail.jobs) (job.action === 'rollback' ? rollbacks : deploys).set(job.hostId, job);
  return detail.waves.flatMap((wave) =>
    wave.hostIds.map((hostId) => ({
      hostId,
      wave: wave.index,
      deploy: deploys.get(hostId),
      rollback: rollbacks.get(hostId),
    })),
  );
};

const FINISHED = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);

export const reasonOf = (job: Job | undefined): string | undefined =>
  job?.error ? `${job.error.code}: ${job.error.message}` : undefined;

/** One word or two for where a host is: `pending`, `running drain`, `failed`, `rolled back`. */
export const hostState = (row: HostRow): string => {
  if (row.rollback) {
    if (row.rollback.state === 'succeeded') return 'rolled back';
    if (FINISHED.has(row.rollback.state)) return `rollback ${row.rollback.state}`;
    return 'rolling back';
  }
  const job = row.deploy;
  if (!job) return 'pending';
  if (job.state === 'running' && job.progress?.phase) return `running ${job.progress.phase}`;
  return job.state;
};

const BAR = 12;

const bar = (fraction: number): string => {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
};

/** How far a host's deploy is: whole when finished, the download's share while downloading. */
const hostFraction = (job: Job | undefined): number => {
  if (!job) return 0;
  if (FINISHED.has(job.state)) return 1;
  const progress = job.progress;
  if (!progress) return job.state === 'running' ? 0.05 : 0;
  const steps = ['download', 'drain', 'stop', 'switch', 'start', 'health'];
  const step = Math.max(0, steps.indexOf(progress.phase));
  const within = progress.total ? (progress.bytes ?? 0) / progress.total : 0;
  return (step + within) / steps.length;
};

const waveState = (wave: Wave, detail: ReleaseDetailView): string => {
  const p = wave.progress;
  const total = wave.hostIds.length;
  const done = ['succeeded', 'failed', 'timed_out', 'cancelled'].reduce((n, s) => n + (p[s] ?? 0), 0);
  if (done === total && total > 0) return 'done';
  // The planner queues every wave's jobs at once: a wave runs once one of them left the queue.
  if ((p.total ?? 0) - (p.queued ?? 0) > 0) return 'running';
  if (detail.state === 'waiting_approval' && detail.approvalWave === wave.index) return 'waiting approval';
  if (isEnded(detail)) return 'not run';
  return 'pending';
};

export const countersText = (detail: ReleaseDetailView): string => {
  const p = detail.progress;
  const waiting = (p.queued ?? 0) + (p.dispatched ?? 0);
  const failed = (p.failed ?? 0) + (p.timed_out ?? 0);
  const rolledBack = detail.jobs.filter((j) => j.action === 'rollback' && j.state === 'succeeded').length;
  const total = detail.hostIds.length || detail.waves.reduce((n, w) => n + w.hostIds.length, 0);
  const parts = [`${p.succeeded ?? 0} succeeded`, `${failed} failed`];
  // Once it ended, a job still queued was never dispatched: the release stopped before it.
  if (isEnded(detail)) parts.push(`${waiting + (p.cancelled ?? 0)} not dispatched`);
  else parts.push(`${p.running ?? 0} running`, `${waiting} waiting`);
  if (rolledBack) parts.push(`${rolledBack} rolled back`);
  return `${parts.join(', ')} of ${total} hosts`;
};

export const headline = (detail: ReleaseDetailView): string =>
  `release ${detail.id}  ${detail.game}@${detail.version} to ${targetText(detail.target)}  ${detail.state}`;

/** Hosts listed one by one in the live view; a larger wave shows its bar and its failures only. */
const HOSTS_SHOWN_PER_WAVE = 16;

/** The terminal view, redrawn each update: waves with a bar each, their hosts, the counters. */
export const liveLines = (detail: ReleaseDetailView): string[] => {
  const rows = hostRows(detail);
  const lines = [headline(detail), `  ${countersText(detail)}`];
  for (const wave of detail.waves) {
    const inWave = rows.filter((r) => r.wave === wave.index);
    const done = inWave.filter((r) => r.deploy && FINISHED.has(r.deploy.state)).length;
    const gate = wave.gate ? ' (gate)' : '';
    lines.push(
      `  wave ${wave.index} ${wave.kind}${gate} ${bar(inWave.length ? done / inWave.length : 0)} ${done}/${inWave.length}  ${waveState(wave, detail)}`,
    );
    const shown =
      inWave.length <= HOSTS_SHOWN_PER_WAVE
        ? inWave
        : inWave.filter((r) => r.deploy && !['succeeded', 'queued'].includes(r.deploy.state));
    for (const row of shown.slice(0, HOSTS_SHOWN_PER_WAVE)) {
      const reason = reasonOf(row.deploy);
      lines.push(
        `    ${row.hostId.padEnd(12)} ${bar(hostFraction(row.deploy))} ${hostState(row)}${reason ? `  ${reason}` : ''}`,
      );
    }
  }
  if (detail.reason) lines.push(`  ${detail.reason}`);
  if (detail.rollbackFailure) lines.push(`  ${detail.rollbackFailure}`);
  return lines;
};

/**
 * Plain lines for a log or a pipe: one per change of the release's state, a wave starting and
 * a host's state or phase.
 */
export const plainTracker = (print: (line: string) => void) => {
  const seen = new Map<string, string>();
  const changed = (key: string, value: string): boolean => {
    if (seen.get(key) === value) return false;
    seen.set(key, value);
    return true;
  };
  return (detail: ReleaseDetailView): void => {
    const release = () => {
      if (changed('release', `${detail.state}|${detail.reason ?? ''}`)) {
        print(`${headline(detail)}${detail.reason ? `: ${detail.reason}` : ''}`);
      }
    };
    // The release's start comes before its hosts, its end after them.
    if (!isEnded(detail)) release();
    for (const wave of detail.waves) {
      const state = waveState(wave, detail);
      if (state !== 'pending' && changed(`wave ${wave.index}`, state)) {
        print(`  wave ${wave.index} ${wave.kind} (${wave.hostIds.length} hosts) ${state}`);
      }
    }
    for (const row of hostRows(detail)) {
      // Queued is where every planned host starts: only leaving it is news.
      if (!row.deploy || row.deploy.state === 'queued') continue;
      const state = hostState(row);
      if (changed(row.hostId, state)) {
        const reason = row.deploy.state === 'running' ? undefined : reasonOf(row.deploy);
        print(`    ${row.hostId}  ${state}${reason ? `  ${reason}` : ''}`);
      }
    }
    if (isEnded(detail)) release();
  };
};

/** What a finished release comes to, on stdout: the outcome, then each failed host and why. */
export const printSummary = (out: Output, detail: ReleaseDetailView): void => {
  out.result(`release ${detail.id} ${detail.state}: ${countersText(detail)}`);
  if (detail.reason) out.result(`  ${detail.reason}`);
  if (detail.rollbackFailure) out.result(`  ${detail.rollbackFailure}`);
  for (const row of hostRows(detail)) {
    const deploy = row.deploy;
    if (!deploy || deploy.state === 'succeeded' || deploy.state === 'cancelled') continue;
    const back = row.rollback ? `; ${hostState(row)}` : '';
    out.result(`  ${row.hostId}  ${deploy.state}  ${reasonOf(deploy) ?? ''}${back}`.trimEnd());
  }
};

export const printRelease = (out: Output, json: boolean, detail: ReleaseDetailView): void => {
  if (json) {
    out.json(detail);
    return;
  }
  out.details([
    ['id', detail.id],
    ['package', `${detail.game}@${detail.version}`],
    ['target', targetText(detail.target)],
    ['state', detail.state],
    ['reason', detail.reason],
    // A later rollback: under way, or why the last one failed (the release kept its state).
    [
      'rollback',
      detail.rollbackRequestedAt ? `requested ${detail.rollbackRequestedAt}` : detail.rollbackFailure,
    ],
    ['strategy', JSON.stringify(detail.strategy)],
    ['hosts', countersText(detail)],
    ['execution', detail.executionArn],
    // Only a deployed release has one: the AWS console's page of its execution.
    ['console', detail.consoleUrl],
    ['created', detail.createdAt],
    ['updated', detail.updatedAt],
  ]);
  const rows = hostRows(detail);
  if (rows.length === 0) return;
  out.result('');
  out.table(rows, [
    { header: 'WAVE', value: (r) => r.wave },
    { header: 'HOST', value: (r) => r.hostId },
    { header: 'STATE', value: (r) => hostState(r) },
    { header: 'REASON', value: (r) => reasonOf(r.deploy) },
  ]);
};
