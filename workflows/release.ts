import { RELEASE_STOPPED_ERROR } from '../core/model/index.js';
import { RELAY_HEARTBEAT_SEC, shardProcessor } from './action.js';
import {
  choice,
  fail,
  inlineMap,
  lambdaCallbackTask,
  lambdaTask,
  pass,
  retryLambdaService,
  type StateMachine,
  succeed,
} from './asl.js';

export const PLAN_RELEASE_FUNCTION = 'gsm-plan-release';
export const AWAIT_APPROVAL_FUNCTION = 'gsm-await-approval';
export const EVALUATE_WAVE_FUNCTION = 'gsm-evaluate-wave';
export const PLAN_ROLLBACK_FUNCTION = 'gsm-plan-rollback';
export const FINALIZE_RELEASE_FUNCTION = 'gsm-finalize-release';

export const RELEASE_FUNCTIONS = [
  PLAN_RELEASE_FUNCTION,
  AWAIT_APPROVAL_FUNCTION,
  EVALUATE_WAVE_FUNCTION,
  PLAN_ROLLBACK_FUNCTION,
  FINALIZE_RELEASE_FUNCTION,
] as const;

/** Shards of one wave running at once; the planner sizes each shard's concurrency to fit. */
export const RELEASE_MAP_CONCURRENCY = 10;
/** How long a gate waits for approve or reject: a week, within the emulator's timer limit. */
export const APPROVAL_TIMEOUT_SEC = 7 * 24 * 3600;

export interface ReleaseDefinitionOptions {
  /** `arn:aws:states:<region>:<account>:activity:gsm-relay` */
  readonly relayActivityArn: string;
  readonly mapConcurrency?: number;
  readonly relayHeartbeatSec?: number;
  readonly approvalTimeoutSec?: number;
  /** How a failed task function is retried: 3 times from 2 s by default (a ValidationError never: see asl.ts). */
  readonly taskRetry?: { readonly intervalSec: number; readonly maxAttempts: number };
}

/**
 * The release workflow, input `{ releaseId }` (or `{ releaseId, mode: 'rollback' }`: roll back
 * the hosts an ended release changed, then Finalize ends it rolled_back):
 * PlanWaves (package staged, targets, deploy jobs, waves of relay shards; a refusal ends the
 * release failed) → RunWaves, one wave at a time [Gate → AwaitApproval (token on the release,
 * waiting_approval) → RunWave (shards on the relay) → EvaluateWave (cumulative failures against
 * maxErrors)] → Finalize. A wave that must stop fails its iteration, which ends the loop with
 * no further dispatch; then, unless rollback is none, the hosts the release changed get
 * `rollback` jobs through the relay before Finalize. No variables and no JSONata: the same
 * definition runs on the local emulator.
 */
export const releaseDefinition = ({
  relayActivityArn,
  mapConcurrency = RELEASE_MAP_CONCURRENCY,
  relayHeartbeatSec = RELAY_HEARTBEAT_SEC,
  approvalTimeoutSec = APPROVAL_TIMEOUT_SEC,
  taskRetry = { intervalSec: 2, maxAttempts: 3 },
}: ReleaseDefinitionOptions): StateMachine => {
  const retryTask = [
    retryLambdaService,
    {
      ErrorEquals: ['States.TaskFailed'],
      IntervalSeconds: taskRetry.intervalSec,
      MaxAttempts: taskRetry.maxAttempts,
    },
  ];
  return {
    Comment: 'gsm release: a staged package to the fleet in waves, with approval gates and rollback',
    StartAt: 'Mode',
    States: {
      Mode: choice(
        [
          {
            And: [
              { Variable: '$.mode', IsPresent: true },
              { Variable: '$.mode', StringEquals: 'rollback' },
            ],
            Next: 'RollbackOnly',
          },
        ],
        'PlanWaves',
      ),
      // An ended release rolled back later: the same PlanRollback, relay and Finalize, nothing else.
      RollbackOnly: pass({
        Parameters: {
          'releaseId.$': '$.releaseId',
          mode: 'rollback',
          plan: { rollback: true, maxErrors: 0 },
        },
        next: 'PlanRollback',
      }),
      PlanWaves: lambdaTask(PLAN_RELEASE_FUNCTION, {
        Comment: 'Check the package and target, create the deploy jobs, plan waves of relay shards',
        payload: { 'releaseId.$': '$.releaseId', 'executionArn.$': '$$.Execution.Id', mapConcurrency },
        ResultSelector: {
          'ok.$': '$.Payload.ok',
          'maxErrors.$': '$.Payload.maxErrors',
          'rollback.$': '$.Payload.rollback',
          'waves.$': '$.Payload.waves',
        },
        ResultPath: '$.plan',
        Retry: retryTask,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopError', Next: 'Finalize' }],
        next: 'Planned',
      }),
      Planned: choice([{ Variable: '$.plan.ok', BooleanEquals: true, Next: 'FirstWave' }], 'Finalize'),
      // A Choice loop, not a Map: a wave that must stop ends the loop at once, and the emulator
      // (which keeps starting a Map's queued iterations after one fails) behaves as AWS does.
      FirstWave: pass({
        Parameters: { 'releaseId.$': '$.releaseId', 'plan.$': '$.plan', cursor: 0 },
        next: 'PickWave',
      }),
      PickWave: pass({
        Parameters: { 'index.$': '$.cursor', 'wave.$': 'States.ArrayGetItem($.plan.waves, $.cursor)' },
        ResultPath: '$.current',
        next: 'Gate',
      }),
      Gate: choice(
        [{ Variable: '$.current.wave.gate', BooleanEquals: true, Next: 'AwaitApproval' }],
        'RunWave',
      ),
      AwaitApproval: lambdaCallbackTask(AWAIT_APPROVAL_FUNCTION, {
        Comment: 'Park the release in waiting_approval; approve or reject sends the token back',
        payload: { 'releaseId.$': '$.releaseId', 'wave.$': '$.cursor', 'taskToken.$': '$$.Task.Token' },
        TimeoutSeconds: approvalTimeoutSec,
        ResultPath: null,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopError', Next: 'RollbackWanted' }],
        next: 'RunWave',
      }),
      RunWave: inlineMap({
        Comment:
          'The shards of the wave on the relay; a shard the relay could not run comes back as an error',
        ItemsPath: '$.current.wave.shards',
        MaxConcurrency: mapConcurrency,
        processor: shardProcessor(relayActivityArn, relayHeartbeatSec),
        ResultPath: '$.current.shardResults',
        next: 'EvaluateWave',
      }),
      EvaluateWave: lambdaTask(EVALUATE_WAVE_FUNCTION, {
        Comment: 'Cumulative failures against maxErrors (SSM semantics): continue or stop',
        payload: {
          'releaseId.$': '$.releaseId',
          'wave.$': '$.cursor',
          'maxErrors.$': '$.plan.maxErrors',
          'shardResults.$': '$.current.shardResults',
        },
        ResultSelector: { 'decision.$': '$.Payload.decision', 'reason.$': '$.Payload.reason' },
        ResultPath: '$.evaluation',
        Retry: retryTask,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopError', Next: 'RollbackWanted' }],
        next: 'Decide',
      }),
      Decide: choice(
        [
          {
            And: [
              { Variable: '$.evaluation.decision', StringEquals: 'continue' },
              { Variable: '$.current.wave.last', BooleanEquals: true },
            ],
            Next: 'Finalize',
          },
          { Variable: '$.evaluation.decision', StringEquals: 'continue', Next: 'NextWave' },
        ],
        'WaveStopped',
      ),
      NextWave: pass({
        // Only the cursor moves on: the finished wave's results leave the state.
        Parameters: {
          'releaseId.$': '$.releaseId',
          'plan.$': '$.plan',
          'cursor.$': 'States.MathAdd($.cursor, 1)',
        },
        next: 'PickWave',
      }),
      WaveStopped: pass({
        Parameters: { Error: RELEASE_STOPPED_ERROR, 'Cause.$': '$.evaluation.reason' },
        ResultPath: '$.stopError',
        next: 'RollbackWanted',
      }),
      RollbackWanted: choice(
        [{ Variable: '$.plan.rollback', BooleanEquals: true, Next: 'PlanRollback' }],
        'Finalize',
      ),
      PlanRollback: lambdaTask(PLAN_ROLLBACK_FUNCTION, {
        Comment: 'One rollback job per host whose deploy succeeded',
        payload: { 'releaseId.$': '$.releaseId', mapConcurrency },
        ResultSelector: { 'shards.$': '$.Payload.shards' },
        ResultPath: '$.rollbackPlan',
        Retry: retryTask,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.rollbackError', Next: 'Finalize' }],
        next: 'RunRollback',
      }),
      RunRollback: inlineMap({
        ItemsPath: '$.rollbackPlan.shards',
        MaxConcurrency: mapConcurrency,
        processor: shardProcessor(relayActivityArn, relayHeartbeatSec, 'Rollback'),
        ResultPath: null,
        // Finalize whatever happens: a rollback-only run left unfinished would hold its hosts
        // and keep every follower of the release waiting.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.rollbackError', Next: 'Finalize' }],
        next: 'RolledBack',
      }),
      RolledBack: pass({ Result: true, ResultPath: '$.rolledBack', next: 'Finalize' }),
      Finalize: lambdaTask(FINALIZE_RELEASE_FUNCTION, {
        Comment: 'Count the host jobs, end the release succeeded, failed or rolled_back with a reason',
        payload: '$',
        ResultSelector: { 'state.$': '$.Payload.state' },
        ResultPath: '$.final',
        Retry: retryTask,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.finalizeError', Next: 'FinalizeFailed' }],
        next: 'Settled',
      }),
      FinalizeFailed: lambdaTask(FINALIZE_RELEASE_FUNCTION, {
        Comment: 'Finalize failed: only end the release (or its rollback) with the error as the reason',
        payload: { 'releaseId.$': '$.releaseId', 'finalizeError.$': '$.finalizeError' },
        ResultPath: null,
        Retry: retryTask,
        next: 'ReleaseFailed',
      }),
      // A rollback-only run succeeded when the release ended rolled_back; a release, succeeded.
      Settled: choice(
        [
          {
            And: [
              { Variable: '$.mode', IsPresent: true },
              { Variable: '$.mode', StringEquals: 'rollback' },
              { Variable: '$.final.state', StringEquals: 'rolled_back' },
            ],
            Next: 'ReleaseSucceeded',
          },
          {
            And: [
              { Variable: '$.mode', IsPresent: true },
              { Variable: '$.mode', StringEquals: 'rollback' },
            ],
            Next: 'ReleaseFailed',
          },
          { Variable: '$.final.state', StringEquals: 'succeeded', Next: 'ReleaseSucceeded' },
        ],
        'ReleaseFailed',
      ),
      ReleaseSucceeded: succeed(),
      ReleaseFailed: fail('Release.Failed', 'the release did not succeed; the release record says why'),
    },
  };
};
