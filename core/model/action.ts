import { z } from 'zod';
import { Id, Timestamp } from './common.js';
import { RelayTaskInput, RelayTaskOutput } from './relay.js';
import { Target } from './release.js';

/**
 * An action: one verb run on a set of hosts, with the rate controls of SSM Run Command.
 * The workflow plans it (targets → host jobs), the relay runs the jobs, a task records the
 * outcome on this record.
 */

/** What an operator may ask of a fleet; each agent's game definitions decide how. */
export const ACTION_NAMES = [
  'start',
  'stop',
  'restart',
  'status',
  'details',
  'install',
  'rollback',
  'uninstall',
  // Origin hosts: remove a package's published copy (what DELETE /v1/packages/:id runs).
  'unstage',
] as const;
export const ActionName = z.enum(ACTION_NAMES, {
  error: () => `an action is one of ${ACTION_NAMES.join(', ')}`,
});
export type ActionName = z.infer<typeof ActionName>;

export const isActionName = (value: string): value is ActionName =>
  (ACTION_NAMES as readonly string[]).includes(value);

/** `10` (hosts) or `"10%"` (of the resolved targets), as SSM's MaxConcurrency and MaxErrors take them. */
export const CountOrPercent = z.union([
  z.number().int().min(0).max(100_000),
  z
    .string()
    .regex(/^\d{1,6}%?$/, 'a count such as 10, or a percentage such as "10%"')
    .refine((s) => !s.endsWith('%') || Number.parseInt(s, 10) <= 100, 'a percentage is at most 100%')
    .transform((s) => (s.endsWith('%') ? s : Number.parseInt(s, 10))),
]);
export type CountOrPercent = z.output<typeof CountOrPercent>;

/** SSM Run Command's defaults: 50 hosts at once, and the first failure stops new dispatches. */
export const DEFAULT_MAX_CONCURRENCY = 50;
export const DEFAULT_MAX_ERRORS = 0;
export const DEFAULT_JOB_TIMEOUT_SEC = 300;

export const ActionStrategy = z.object({
  maxConcurrency: CountOrPercent.refine((v) => v !== 0, 'at least 1 host at a time').default(
    DEFAULT_MAX_CONCURRENCY,
  ),
  maxErrors: CountOrPercent.default(DEFAULT_MAX_ERRORS),
  /** One host job that takes longer fails as timed_out. */
  jobTimeoutSec: z.number().int().min(1).max(86_400).default(DEFAULT_JOB_TIMEOUT_SEC),
});
export type ActionStrategy = z.output<typeof ActionStrategy>;

export const ActionState = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled']);
export type ActionState = z.infer<typeof ActionState>;

export const TERMINAL_ACTION_STATES: readonly ActionState[] = ['succeeded', 'failed', 'cancelled'];

/** Forward only: the store turns this table into the condition of every state write. */
export const ACTION_TRANSITIONS: Readonly<Record<ActionState, readonly ActionState[]>> = {
  pending: ['running', 'succeeded', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export const isTerminalActionState = (state: ActionState): boolean => TERMINAL_ACTION_STATES.includes(state);

export const ActionParams = z.record(z.string(), z.unknown());

export const Action = z.object({
  id: z.string().min(1).max(80),
  action: ActionName,
  target: Target,
  params: ActionParams.default({}),
  strategy: ActionStrategy,
  state: ActionState,
  /** The resolved targets, sorted by id (unknown ids included: their jobs fail at once). */
  hostIds: z.array(Id).default([]),
  executionArn: z.string().optional(),
  /** The outcome per job state (succeeded, failed, timedOut, cancelled, total), set when it ends. */
  counters: z.record(z.string(), z.number()).default({}),
  reason: z.string().optional(),
  createdBy: z.string().optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  startedAt: Timestamp.optional(),
  endedAt: Timestamp.optional(),
});
export type Action = z.infer<typeof Action>;

export type Rounding = 'floor' | 'ceil';

/**
 * A count stays a count; `"N%"` becomes that share of `total`, rounded as asked. SSM's own
 * examples round error budgets down (10% of 50 hosts stops at the sixth error, 40% of 10 at
 * the fifth), so callers pass 'floor' unless they mean otherwise.
 */
export const resolveCountOrPercent = (value: CountOrPercent, total: number, rounding: Rounding): number => {
  if (typeof value === 'number') return value;
  const percent = Number.parseInt(value, 10);
  const exact = (total * percent) / 100;
  // 1e-9 absorbs float noise (e.g. 29 × 10 / 100), so an exact share never rounds the wrong way.
  return Math.max(0, rounding === 'floor' ? Math.floor(exact + 1e-9) : Math.ceil(exact - 1e-9));
};

/** Hosts at once: a percentage rounds down, but never to 0 (as CloudFormation StackSets and SSM do). */
export const resolveMaxConcurrency = (value: CountOrPercent, total: number): number =>
  Math.max(1, resolveCountOrPercent(value, total, 'floor'));

/**
 * Failures allowed before nothing new is dispatched: with N, the (N+1)th failure stops the
 * action; with 0, the first one does. Jobs already in flight still finish.
 */
export const resolveMaxErrors = (value: CountOrPercent, total: number): number =>
  resolveCountOrPercent(value, total, 'floor');

/** Error codes of host jobs the workflow itself decides, before or instead of an agent. */
export const ACTION_JOB_ERRORS = {
  unknownHost: 'E_UNKNOWN_HOST',
  relayFailed: 'E_RELAY_FAILED',
  lost: 'E_JOB_LOST',
} as const;

/**
 * The action workflow's task contracts. The definition (workflows/action.ts) wires these
 * shapes from state to state; the task handlers parse them.
 */
export const PlanActionEvent = z.object({
  actionId: z.string().min(1),
  executionArn: z.string().min(1),
  /** The Map state's MaxConcurrency: how many shards run at once. */
  mapConcurrency: z.number().int().min(1).max(40),
});
export type PlanActionEvent = z.infer<typeof PlanActionEvent>;

/**
 * One Map item: the relay's task input plus what the state around it needs. The relay parses
 * it with RelayTaskInput, which drops the extra fields.
 */
export const ShardItem = RelayTaskInput.extend({
  shard: z.number().int().min(0),
  /** The shard task's TimeoutSeconds: every job's timeout, batch after batch, plus slack. */
  timeoutSec: z.number().int().min(1),
});
export type ShardItem = z.infer<typeof ShardItem>;

export const PlanActionResult = z.object({
  actionId: z.string(),
  total: z.number().int(),
  maxErrors: z.number().int(),
  shards: z.array(ShardItem),
});
export type PlanActionResult = z.infer<typeof PlanActionResult>;

/** Step Functions' error object, as a Catch with ResultPath puts it. */
export const StepError = z.object({ Error: z.string().optional(), Cause: z.string().optional() });

export const ShardResult = z.union([
  z.object({ shard: z.number().int(), counts: RelayTaskOutput.shape.counts }),
  z.object({ shard: z.number().int(), error: StepError }),
]);
export type ShardResult = z.infer<typeof ShardResult>;

export const RecordActionEvent = z.object({
  actionId: z.string().min(1),
  shardResults: z.array(ShardResult).default([]),
  /** Set when planning itself failed (after its retries). */
  planError: StepError.optional(),
});
export type RecordActionEvent = z.infer<typeof RecordActionEvent>;

export const RecordActionResult = z.object({
  actionId: z.string(),
  state: ActionState,
  reason: z.string().optional(),
  counters: z.record(z.string(), z.number()),
});
export type RecordActionResult = z.infer<typeof RecordActionResult>;

/** Host jobs per relay task; small shards spread over relays, and a lost one costs little. */
export const SHARD_MAX_HOSTS = 100;
/** The contract's ceiling per relay task (RelayTaskInput.jobs). */
export const SHARD_HARD_MAX_HOSTS = 1000;
/** Above the definition's HeartbeatSeconds (60): Step Functions wants the timeout larger. */
export const SHARD_MIN_TIMEOUT_SEC = 120;
/** Time a relay needs around the jobs themselves: connecting, writing records, answering. */
export const SHARD_SLACK_SEC = 60;
