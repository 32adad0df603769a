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

export const INTAKE_REGISTER_FUNCTION = 'gsm-intake-register';
export const VERIFY_PACKAGE_FUNCTION = 'gsm-verify-package';
export const PLAN_STAGING_FUNCTION = 'gsm-plan-staging';
export const VERIFY_ORIGINS_FUNCTION = 'gsm-verify-origins';
export const AUTO_RELEASE_FUNCTION = 'gsm-auto-release';

/** Origins copying at once; each is one relay shard with one stage job. */
export const STAGE_MAP_CONCURRENCY = 4;
/** The relay heartbeats well within this; a silent one loses the shard to another relay. */
export const STAGE_HEARTBEAT_SEC = 60;
/** Longer than a stage job may take (functions/tasks/plan-staging: 3 h), so the relay reports first. */
export const STAGE_TASK_TIMEOUT_SEC = 3 * 3600 + 600;

export interface IntakeDefinitionOptions {
  /** `arn:aws:states:<region>:<account>:activity:gsm-relay` */
  readonly relayActivityArn: string;
}

/** The StagingPlan fields, kept whole at `$.staging` between the staging states. */
const PLAN_FIELDS = Object.fromEntries(
  ['packageId', 'executionName', 'attempt', 'done', 'shards', 'originIds', 'failures', 'verifiedIds'].map(
    (f) => [`${f}.$`, `$.Payload.${f}`],
  ),
);

/** Error names the register task throws (the class names in functions/tasks/intake-register). */
export const INTAKE_HASH_PENDING = 'IntakeHashPending';
export const INTAKE_REFUSED = 'IntakeRefused';

/** Hashing streams the object at ~1 GB/s; 15 minutes (Lambda's limit) covers any package S3 holds in practice. */
export const VERIFY_TIMEOUT_SEC = 900;

/**
 * The intake workflow, input `IntakeInput` (what functions/trigger derives from an S3 Object
 * Created event):
 * Register (load the upload's package, or register a drop under incoming/ with its declared
 * hash; a sidecar arriving late is waited for, ~13 s) → Verify (SHA-256 and size of the stored
 * object against the declared ones: verified or rejected with the reason) → Done.
 * An IntakeRefused object (bad name, unknown game, taken version) fails the execution with its
 * reason and registers nothing.
 * A verified package is then staged: PlanStaging (one relay shard of one `stage` job per
 * origin; none registered: the package stays verified) → RunStage (bounded Map of relay
 * activity tasks) → VerifyOrigins (HEAD size and GET hash through each origin's public URL; a
 * bad copy is staged once more, then the origin is excluded and reported) → staged →
 * AutoRelease (a release of it when the game's policy says autoRelease; never fails the intake).
 * PlanStaging or VerifyOrigins failing past their retries → AbandonStaging (back to verified with
 * the error, every origin listed unverified) → StagingFailed.
 */
export const intakeDefinition = ({ relayActivityArn }: IntakeDefinitionOptions): StateMachine => {
  const registered = {
    ResultSelector: { 'packageId.$': '$.Payload.packageId', 'verify.$': '$.Payload.verify' },
    ResultPath: '$.registered',
  };
  return {
    Comment: 'gsm intake: register or load the package, verify its SHA-256',
    StartAt: 'Register',
    States: {
      Register: lambdaTask(INTAKE_REGISTER_FUNCTION, {
        Comment: 'Load the uploaded package, or register a dropped one with its declared hash',
        payload: '$',
        ...registered,
        TimeoutSeconds: 60,
        Retry: [
          retryLambdaService,
          { ErrorEquals: [INTAKE_HASH_PENDING], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 1.5 },
        ],
        Catch: [
          { ErrorEquals: [INTAKE_HASH_PENDING], ResultPath: '$.hashPending', Next: 'StopWaitingForHash' },
        ],
        next: 'ShouldVerify',
      }),
      StopWaitingForHash: pass({
        Comment: 'No hash arrived: register the drop as rejected, with the reason',
        Result: true,
        ResultPath: '$.hashWaitOver',
        next: 'RegisterWithoutHash',
      }),
      RegisterWithoutHash: lambdaTask(INTAKE_REGISTER_FUNCTION, {
        payload: '$',
        ...registered,
        TimeoutSeconds: 60,
        Retry: [retryLambdaService],
        next: 'ShouldVerify',
      }),
      ShouldVerify: choice(
        [{ Variable: '$.registered.verify', BooleanEquals: true, Next: 'Verify' }],
        'Done',
      ),
      Verify: lambdaTask(VERIFY_PACKAGE_FUNCTION, {
        Comment: 'Stream the stored object through SHA-256; verified or rejected with the reason',
        payload: { 'packageId.$': '$.registered.packageId', 'executionName.$': '$$.Execution.Name' },
        ResultSelector: { 'state.$': '$.Payload.state', 'packageId.$': '$.Payload.packageId' },
        ResultPath: '$.verified',
        TimeoutSeconds: VERIFY_TIMEOUT_SEC,
        Retry: [retryLambdaService, { ErrorEquals: ['States.Timeout'], MaxAttempts: 1 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.verifyError', Next: 'RejectUnverifiable' }],
        next: 'IsVerified',
      }),
      IsVerified: choice(
        [{ Variable: '$.verified.state', StringEquals: 'verified', Next: 'PlanStaging' }],
        'Done',
      ),
      PlanStaging: lambdaTask(PLAN_STAGING_FUNCTION, {
        Comment: 'One stage job per origin (presigned GET of the stored object); the package is staging',
        payload: {
          'packageId.$': '$.registered.packageId',
          'executionName.$': '$$.Execution.Name',
          attempt: 1,
        },
        ResultSelector: PLAN_FIELDS,
        ResultPath: '$.staging',
        TimeoutSeconds: 60,
        Retry: [
          retryLambdaService,
          { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 2 },
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stagingError', Next: 'AbandonStaging' }],
        next: 'StagingDone',
      }),
      StagingDone: choice(
        [{ Variable: '$.staging.done', BooleanEquals: true, Next: 'AutoRelease' }],
        'RunStage',
      ),
      RunStage: inlineMap({
        Comment: 'Each origin agent downloads, verifies and publishes the package (through the relay)',
        ItemsPath: '$.staging.shards',
        MaxConcurrency: STAGE_MAP_CONCURRENCY,
        processor: {
          StartAt: 'StageOnOrigin',
          States: {
            StageOnOrigin: activityTask(relayActivityArn, {
              TimeoutSeconds: STAGE_TASK_TIMEOUT_SEC,
              HeartbeatSeconds: STAGE_HEARTBEAT_SEC,
              ResultSelector: { 'results.$': '$.results' },
              Retry: [
                {
                  ErrorEquals: ['States.HeartbeatTimeout', 'States.Timeout'],
                  IntervalSeconds: 2,
                  MaxAttempts: 2,
                  BackoffRate: 2,
                },
              ],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ShardFailed' }],
            }),
            ShardFailed: pass({ Parameters: { 'error.$': '$.error' } }),
          },
        },
        ResultPath: '$.stageResults',
        next: 'VerifyOrigins',
      }),
      VerifyOrigins: lambdaTask(VERIFY_ORIGINS_FUNCTION, {
        Comment: 'What each origin serves (HEAD size, GET SHA-256): retry bad copies once, then exclude',
        payload: { 'plan.$': '$.staging', 'results.$': '$.stageResults' },
        ResultSelector: PLAN_FIELDS,
        ResultPath: '$.staging',
        TimeoutSeconds: VERIFY_TIMEOUT_SEC,
        Retry: [
          retryLambdaService,
          { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 2 },
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stagingError', Next: 'AbandonStaging' }],
        next: 'StagingDone',
      }),
      AbandonStaging: lambdaTask(VERIFY_ORIGINS_FUNCTION, {
        Comment:
          'Staging failed past its retries: back to verified with the error, every origin listed as unverified',
        payload: {
          abandon: {
            'packageId.$': '$.registered.packageId',
            'executionName.$': '$$.Execution.Name',
            'error.$': '$.stagingError',
          },
        },
        ResultPath: '$.abandoned',
        TimeoutSeconds: 60,
        Retry: [
          retryLambdaService,
          { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 2 },
        ],
        next: 'StagingFailed',
      }),
      StagingFailed: fail(
        'GsmStagingFailed',
        'staging failed past its retries; the package is verified, not staged',
      ),
      AutoRelease: lambdaTask(AUTO_RELEASE_FUNCTION, {
        Comment:
          'A staged package of a game whose policy says autoRelease starts its release; a refusal is logged, the intake still succeeds',
        payload: { 'packageId.$': '$.staging.packageId' },
        ResultSelector: { 'started.$': '$.Payload.started', 'result.$': '$.Payload' },
        ResultPath: '$.autoRelease',
        TimeoutSeconds: 60,
        Retry: [
          retryLambdaService,
          { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 2 },
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.autoReleaseError', Next: 'Done' }],
        next: 'Done',
      }),
      RejectUnverifiable: lambdaTask(VERIFY_PACKAGE_FUNCTION, {
        Comment: 'Verification kept failing: reject, so the package never stays verifying',
        payload: {
          'packageId.$': '$.registered.packageId',
          'executionName.$': '$$.Execution.Name',
          'failure.$': '$.verifyError.Error',
        },
        ResultSelector: { 'state.$': '$.Payload.state', 'packageId.$': '$.Payload.packageId' },
        ResultPath: '$.verified',
        TimeoutSeconds: 60,
        Retry: [retryLambdaService],
        next: 'Done',
      }),
      Done: succeed(),
    },
  };
};
