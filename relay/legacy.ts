import { createHash } from 'node:crypto';
import type { Host, HostJobOutcome, Job } from '../core/model/index.js';
import { LEGACY_COMMANDS, type LegacyCommand, ProtocolError, runLegacyCommand } from '../protocol/index.js';
import { RELAY_ERROR_CODES } from './errors.js';
import type { HostJobRun } from './jobs.js';
import { claimJob } from './jobs.js';
import { describe, type Finisher, finishJob, jobError, outcomeOf } from './outcome.js';

/** The only actions the original platform's agents understand. */
const LEGACY_ACTIONS: Readonly<Record<string, LegacyCommand>> = {
  start: LEGACY_COMMANDS.start,
  stop: LEGACY_COMMANDS.stop,
  install: LEGACY_COMMANDS.autoInstall,
};

/** Legacy job ids are u32: a stable hash of ours, so a log line on the old agent can be traced back. */
export const legacyJobNumber = (jobId: string): number =>
  createHash('sha256').update(jobId).digest().readUInt32BE(0);

/**
 * A host with `protocol: "legacy"`: one command over the old protocol. It reports only that
 * the agent accepted the command, so the result says so and marks what it cannot know
 * (progress, health) as unknown instead of inventing it. With no journal on the old agent a
 * job found already dispatched is never sent again: its outcome is unknown, and it fails as such.
 */
export const runLegacyJob = async (
  job: Job,
  host: Host,
  run: HostJobRun,
  fin: Finisher & { readonly relayId: string },
): Promise<HostJobOutcome> => {
  const command = LEGACY_ACTIONS[job.action];
  if (!command) {
    const message = `legacy host '${host.id}' supports only ${Object.keys(LEGACY_ACTIONS).join(', ')}, not '${job.action}'`;
    return outcomeOf(
      await finishJob(
        job,
        'failed',
        { error: jobError(RELAY_ERROR_CODES.unsupportedByLegacy, message) },
        fin,
      ),
    );
  }
  const claim = await claimJob(fin.store, job, fin.relayId);
  if (!claim.claimed) {
    if (claim.job.state === 'dispatched' || claim.job.state === 'running') {
      const message = `a previous attempt sent '${command}' to legacy host '${host.id}' and the old protocol cannot tell whether it ran; not sending it twice`;
      return outcomeOf(
        await finishJob(
          claim.job,
          'failed',
          { error: jobError(RELAY_ERROR_CODES.legacyOutcomeUnknown, message) },
          fin,
        ),
      );
    }
    return outcomeOf(claim.job);
  }
  const legacyJobId = legacyJobNumber(job.id);
  try {
    await runLegacyCommand({
      host: host.address,
      port: host.port,
      key: host.legacyKey ?? '',
      jobId: legacyJobId,
      command,
      timeoutMs: run.timeoutMs,
      signal: run.signal,
    });
  } catch (error) {
    const timedOut = error instanceof ProtocolError && error.code === 'E_TIMEOUT';
    const { code, message } = describe(error);
    return outcomeOf(
      await finishJob(
        claim.job,
        timedOut ? 'timed_out' : 'failed',
        {
          error: jobError(
            timedOut ? RELAY_ERROR_CODES.timeout : code,
            `legacy host '${host.id}': ${message}`,
          ),
        },
        fin,
      ),
    );
  }
  const result = {
    protocol: 'legacy',
    command,
    legacyJobId,
    accepted: true,
    progress: 'unknown',
    health: 'unknown',
  };
  return outcomeOf(await finishJob(claim.job, 'succeeded', { result }, fin));
};
