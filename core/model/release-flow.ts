import { z } from 'zod';
import { ShardItem, StepError } from './action.js';
import { WaveKind } from './strategy.js';

/**
 * The release workflow's task contracts. The definition (workflows/release.ts) wires these
 * shapes from state to state; the task handlers parse them.
 */

/** Host job actions a release hands the relay; the agent's README defines both. */
export const RELEASE_JOB_ACTIONS = { deploy: 'deploy', rollback: 'rollback' } as const;

/** Rollback jobs keep their own parent, so their failures never spend the release's budget. */
export const rollbackParentId = (releaseId: string): string => `${releaseId}.rollback`;

/**
 * Time a deploy job needs besides draining and the health check: download, verify, extract,
 * stop and start. A job past drain + health + this fails as timed_out.
 */
export const DEPLOY_WORK_SEC = 600;

export const PlanReleaseEvent = z.object({
  releaseId: z.string().min(1),
  executionArn: z.string().min(1),
  /** The shard Map's MaxConcurrency: how many shards of a wave run at once. */
  mapConcurrency: z.number().int().min(1).max(40),
});
export type PlanReleaseEvent = z.infer<typeof PlanReleaseEvent>;

export const WavePlan = z.object({
  index: z.number().int().min(0),
  kind: WaveKind,
  gate: z.boolean(),
  size: z.number().int().min(1),
  /** The loop in the definition ends after this wave. */
  last: z.boolean(),
  shards: z.array(ShardItem),
});
export type WavePlan = z.infer<typeof WavePlan>;

export const PlanReleaseResult = z.object({
  releaseId: z.string(),
  /** False when the release was refused (and marked failed) instead of planned. */
  ok: z.boolean(),
  total: z.number().int(),
  maxErrors: z.number().int(),
  /** Whether a stopped release rolls back the hosts it changed (strategy.rollback auto). */
  rollback: z.boolean(),
  waves: z.array(WavePlan),
});
export type PlanReleaseResult = z.infer<typeof PlanReleaseResult>;

export const WaveShardResult = z.union([
  z.object({ shard: z.number().int(), counts: z.record(z.string(), z.number()) }),
  z.object({ shard: z.number().int(), error: StepError }),
]);

export const EvaluateWaveEvent = z.object({
  releaseId: z.string().min(1),
  wave: z.number().int().min(0),
  maxErrors: z.number().int().min(0),
  shardResults: z.array(WaveShardResult).default([]),
});
export type EvaluateWaveEvent = z.infer<typeof EvaluateWaveEvent>;

export const WaveDecision = z.enum(['continue', 'stop']);
export type WaveDecision = z.infer<typeof WaveDecision>;

export const EvaluateWaveResult = z.object({
  releaseId: z.string(),
  decision: WaveDecision,
  failed: z.number().int(),
  maxErrors: z.number().int(),
  reason: z.string(),
});
export type EvaluateWaveResult = z.infer<typeof EvaluateWaveResult>;

/** The error a wave iteration fails with when the release must stop dispatching. */
export const RELEASE_STOPPED_ERROR = 'Release.Stopped';
/** What approve/reject sends back on a gate's task token. */
export const RELEASE_REJECTED_ERROR = 'Release.Rejected';
/** What a cancel sends back on a gate's task token, and AwaitApproval throws after a cancel. */
export const RELEASE_CANCELLED_ERROR = 'Release.Cancelled';

/** The release machine's input: a release to run, or (mode rollback) an ended one to roll back. */
export const ReleaseMode = z.enum(['release', 'rollback']);
export type ReleaseMode = z.infer<typeof ReleaseMode>;
/**
 * The execution name of an ended release's rollback-only run, one per attempt: a failed
 * rollback may be asked for again, and an execution name is never reused.
 */
export const rollbackExecutionName = (releaseId: string, attempt = 1): string =>
  attempt <= 1 ? `${releaseId}-rollback` : `${releaseId}-rollback-${attempt}`;

export const AwaitApprovalEvent = z.object({
  releaseId: z.string().min(1),
  wave: z.number().int().min(0),
  taskToken: z.string().min(1),
});
export type AwaitApprovalEvent = z.infer<typeof AwaitApprovalEvent>;

export const PlanRollbackEvent = z.object({
  releaseId: z.string().min(1),
  mapConcurrency: z.number().int().min(1).max(40),
});
export type PlanRollbackEvent = z.infer<typeof PlanRollbackEvent>;

export const PlanRollbackResult = z.object({
  releaseId: z.string(),
  hosts: z.number().int(),
  shards: z.array(ShardItem),
});
export type PlanRollbackResult = z.infer<typeof PlanRollbackResult>;

export const FinalizeReleaseEvent = z.object({
  releaseId: z.string().min(1),
  /** The plan's budget, when planning got that far (the whole execution state is the payload). */
  plan: z.object({ maxErrors: z.number().int() }).partial().optional(),
  /** Set when the wave loop stopped: why (a spent budget, a rejection, a failed task). */
  stopError: StepError.optional(),
  /** Whether rollback jobs ran. */
  rolledBack: z.boolean().default(false),
  /** Rollback-only executions (POST /v1/releases/:id/rollback on an ended release). */
  mode: ReleaseMode.default('release'),
  /** Set when PlanRollback or the rollback's relay run failed. */
  rollbackError: StepError.optional(),
  /** Set when Finalize itself failed: only end the release (or its rollback) with the reason. */
  finalizeError: StepError.optional(),
});
export type FinalizeReleaseEvent = z.infer<typeof FinalizeReleaseEvent>;

export const FinalizeReleaseResult = z.object({
  releaseId: z.string(),
  state: z.string(),
  reason: z.string().optional(),
  counters: z.record(z.string(), z.number()),
});
export type FinalizeReleaseResult = z.infer<typeof FinalizeReleaseResult>;
