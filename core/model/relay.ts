import { z } from 'zod';
import { Id } from './common.js';
import { JobError, JobParentType, JobState } from './job.js';

/**
 * The contract between workflows and the relay. A workflow hands the relay one shard of host
 * jobs as an activity task; the relay runs them on the agents and completes the task with one
 * outcome per job. Job ids are deterministic, so a retried task (after a relay died) finds the
 * jobs it already started and re-attaches instead of running them again.
 */

export const RELAY_ACTIVITY_NAME = 'gsm-relay';

/**
 * The parent counter an operator's cancel adds to: a shard that sees it above zero dispatches
 * nothing more (the rest are skipped with E_STOPPED) while the jobs in flight finish. It travels
 * through the same shared counters item as the error budget, so shards on every relay see it.
 */
export const STOP_COUNTER = 'stopRequested';

export const jobIdFor = (parentId: string, hostId: string, action: string): string =>
  `${parentId}.${hostId}.${action}`;

/** What the agent protocol accepts as a job id (protocol/README.md): checked before any dispatch. */
export const JobIdSyntax = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'job ids use letters, digits, ".", "_", ":" or "-"');

export const HostJobSpec = z.object({
  jobId: JobIdSyntax,
  hostId: Id,
  /** An action the agent's definitions allow: install, start, stop, restart, status, ... */
  action: z.string().regex(/^[a-z][a-z-]{1,31}$/, 'an action name, not a command'),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type HostJobSpec = z.infer<typeof HostJobSpec>;

export const RelayTaskInput = z.object({
  parentType: JobParentType,
  parentId: z.string().min(1).max(128),
  jobs: z.array(HostJobSpec).min(1).max(1000),
  /** Host jobs of this shard running at once. */
  maxConcurrency: z.number().int().min(1).max(1000),
  /**
   * Failures the whole parent (action or release wave) may have before nothing new is
   * dispatched (SSM Run Command's maxErrors, resolved to a count by the planner). Shared by
   * every shard through the parent's `failed` counter, so shards on several relays agree.
   */
  maxErrors: z.number().int().min(0),
  /** A host job that takes longer fails with E_TIMEOUT (state timed_out). */
  jobTimeoutSec: z.number().int().min(1).max(86_400),
});
export type RelayTaskInput = z.infer<typeof RelayTaskInput>;

export const HostJobOutcome = z.object({
  jobId: z.string(),
  hostId: Id,
  action: z.string(),
  state: JobState,
  error: JobError.optional(),
  result: z.record(z.string(), z.unknown()).optional(),
});
export type HostJobOutcome = z.infer<typeof HostJobOutcome>;

export const RelayTaskOutput = z.object({
  parentId: z.string(),
  results: z.array(HostJobOutcome),
  counts: z.object({
    succeeded: z.number().int(),
    failed: z.number().int(),
    /** Not dispatched because the error budget was spent first (state cancelled). */
    skipped: z.number().int(),
  }),
});
export type RelayTaskOutput = z.infer<typeof RelayTaskOutput>;
