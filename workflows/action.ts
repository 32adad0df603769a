import {
  activityTask,
  choice,
  fail,
  inlineMap,
  lambdaTask,
  pass,
  retryLambdaService,
  type StateMachine,
  succeed,
} from './asl.js';

export const PLAN_ACTION_FUNCTION = 'gsm-plan-action';
export const RECORD_ACTION_FUNCTION = 'gsm-record-action';

/** Shards running at once; the planner sizes each shard's concurrency to fit the strategy. */
export const ACTION_MAP_CONCURRENCY = 10;
/** A relay heartbeats well within this; a silent one has died and its shard goes to another. */
export const RELAY_HEARTBEAT_SEC = 60;

export interface ActionDefinitionOptions {
  /** `arn:aws:states:<region>:<account>:activity:gsm-relay` */
  readonly relayActivityArn: string;
  readonly mapConcurrency?: number;
  /** Tests shorten it to see a silent relay's shard retried. */
  readonly relayHeartbeatSec?: number;
}

/**
 * One shard as one relay activity task; a relay that stops heartbeating loses its shard to
 * another, which re-attaches to the jobs by their deterministic ids. Only the counts leave.
 */
export const shardProcessor = (
  relayActivityArn: string,
  relayHeartbeatSec: number,
  // State names are unique across a whole machine, so a second processor needs its own.
  prefix = '',
): StateMachine => ({
  StartAt: `${prefix}RunShard`,
  States: {
    [`${prefix}RunShard`]: activityTask(relayActivityArn, {
      Comment: 'The relay runs the shard and answers one outcome per host job',
      TimeoutSecondsPath: '$.timeoutSec',
      HeartbeatSeconds: relayHeartbeatSec,
      ResultSelector: { 'counts.$': '$.counts' },
      ResultPath: '$.outcome',
      Retry: [
        {
          ErrorEquals: ['States.HeartbeatTimeout', 'States.Timeout'],
          IntervalSeconds: 2,
          MaxAttempts: 2,
          BackoffRate: 2,
        },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${prefix}ShardFailed` }],
      next: `${prefix}ShardDone`,
    }),
    // Only the counts leave the iteration: the job lists stay out of the execution's payload.
    [`${prefix}ShardDone`]: pass({ Parameters: { 'shard.$': '$.shard', 'counts.$': '$.outcome.counts' } }),
    [`${prefix}ShardFailed`]: pass({ Parameters: { 'shard.$': '$.shard', 'error.$': '$.error' } }),
  },
});

/**
 * The action workflow, input `{ actionId }`:
 * PlanTargets (targets → host jobs in shards, action running) → RunShards (each shard is one
 * relay activity task; a relay that stops heartbeating loses its shard to another, which
 * re-attaches to the jobs by their deterministic ids) → RecordResults (counts, final state and
 * reason per SSM Run Command's rules) → ActionSucceeded | ActionFailed.
 */
export const actionDefinition = ({
  relayActivityArn,
  mapConcurrency = ACTION_MAP_CONCURRENCY,
  relayHeartbeatSec = RELAY_HEARTBEAT_SEC,
}: ActionDefinitionOptions): StateMachine => ({
  Comment: 'gsm action: one verb on a set of hosts, with SSM-style maxConcurrency and maxErrors',
  StartAt: 'PlanTargets',
  States: {
    PlanTargets: lambdaTask(PLAN_ACTION_FUNCTION, {
      Comment: 'Resolve the target, create the queued host jobs, shard them; the action is running',
      payload: { 'actionId.$': '$.actionId', 'executionArn.$': '$$.Execution.Id', mapConcurrency },
      ResultSelector: { 'shards.$': '$.Payload.shards' },
      ResultPath: '$.plan',
      Retry: [retryLambdaService],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.planError', Next: 'PlanFailed' }],
      next: 'RunShards',
    }),
    PlanFailed: pass({
      Parameters: { 'actionId.$': '$.actionId', 'planError.$': '$.planError', shardResults: [] },
      next: 'RecordResults',
    }),
    RunShards: inlineMap({
      Comment: 'One relay task per shard; the shard carries everything its task needs',
      ItemsPath: '$.plan.shards',
      MaxConcurrency: mapConcurrency,
      processor: shardProcessor(relayActivityArn, relayHeartbeatSec),
      ResultPath: '$.shardResults',
      next: 'Summarise',
    }),
    Summarise: pass({
      Parameters: { 'actionId.$': '$.actionId', 'shardResults.$': '$.shardResults' },
      next: 'RecordResults',
    }),
    RecordResults: lambdaTask(RECORD_ACTION_FUNCTION, {
      Comment: 'Count the outcomes, close jobs a failed shard left open, settle the action',
      payload: '$',
      ResultSelector: { 'state.$': '$.Payload.state' },
      ResultPath: '$.record',
      Retry: [retryLambdaService, { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 3 }],
      next: 'Settled',
    }),
    Settled: choice(
      [{ Variable: '$.record.state', StringEquals: 'succeeded', Next: 'ActionSucceeded' }],
      'ActionFailed',
    ),
    ActionSucceeded: succeed(),
    ActionFailed: fail(
      'Action.Failed',
      'not every host job succeeded within maxErrors; the action record says why',
    ),
  },
});
