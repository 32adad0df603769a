import { z } from 'zod';
import { Id, Tags, Timestamp, Version } from './common.js';

export const ReleaseState = z.enum([
  'pending',
  'running',
  'waiting_approval',
  'succeeded',
  'failed',
  'rolled_back',
  'cancelled',
]);
export type ReleaseState = z.infer<typeof ReleaseState>;

export const TERMINAL_RELEASE_STATES: readonly ReleaseState[] = [
  'succeeded',
  'failed',
  'rolled_back',
  'cancelled',
];

/**
 * Ended states a later rollback starts from (then rolled_back): the release left hosts changed,
 * within its budget, without a rollback (strategy rollback none), or cancelled without one.
 */
export const ROLLBACK_FROM_STATES: readonly ReleaseState[] = ['succeeded', 'failed', 'cancelled'];

/** Ended for good: a succeeded, failed or cancelled release with a rollback asked for still changes. */
export const releaseHasEnded = (release: {
  state: ReleaseState;
  rollbackRequestedAt?: string | undefined;
}): boolean =>
  TERMINAL_RELEASE_STATES.includes(release.state) &&
  !(release.rollbackRequestedAt !== undefined && ROLLBACK_FROM_STATES.includes(release.state));

/** Version key of a host whose version is not known (never observed, job result missing). */
export const UNKNOWN_VERSION = 'unknown';

export const Target = z.union([
  z.object({ hosts: z.array(Id).min(1).max(5000) }).strict(),
  z.object({ tags: Tags.refine((t) => Object.keys(t).length > 0, 'name at least one tag') }).strict(),
]);
export type Target = z.infer<typeof Target>;

export const Release = z.object({
  id: z.string().min(1),
  game: Id,
  version: Version,
  packageId: z.string(),
  target: Target,
  strategy: z.record(z.string(), z.unknown()),
  state: ReleaseState,
  reason: z.string().optional(),
  executionArn: z.string().optional(),
  counters: z.record(z.string(), z.number()).default({}),
  /** The resolved targets in wave order, set when the workflow plans the release. */
  hostIds: z.array(Id).default([]),
  /** The planned waves (WavePlan without shards), for the API's view of progress. */
  waves: z
    .array(z.object({ index: z.number().int(), kind: z.string(), hostIds: z.array(Id), gate: z.boolean() }))
    .default([]),
  /** While waiting_approval: the task token that approve/reject completes, and the wave it gates. */
  approvalToken: z.string().optional(),
  approvalWave: z.number().int().optional(),
  /**
   * Set by a cancel of a running release: the workflow stops dispatching, rolls back and its
   * Finalize ends the release cancelled with this reason. The state stays running until then.
   */
  cancelRequestedAt: Timestamp.optional(),
  cancelReason: z.string().optional(),
  /** Set by a rollback of an ended release while its rollback-only execution runs. */
  rollbackRequestedAt: Timestamp.optional(),
  /** Later rollbacks asked for so far: each runs as its own execution (see rollbackExecutionName). */
  rollbackAttempts: z.number().int().min(0).optional(),
  /** Why the last later rollback failed: the release kept its state and changed hosts. */
  rollbackFailure: z.string().optional(),
  /**
   * Target hosts per version they ended on, from the deploy and rollback jobs (Finalize); hosts
   * whose version nobody knows count as "unknown".
   */
  versions: z.record(z.string(), z.number()).optional(),
  /**
   * The version each target host ran when the release was planned (hosts whose version was
   * known): where a host whose deploy failed is, since it never switched or switched itself back.
   */
  versionsBefore: z.record(z.string(), z.string()).optional(),
  /** The version each target host ended on, for the hosts whose version is known. */
  hostVersions: z.record(z.string(), z.string()).optional(),
  createdBy: z.string().optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Release = z.infer<typeof Release>;
