import { choice, lambdaTask, pass, retryLambdaService, type StateMachine, succeed } from './asl.js';

export const INTAKE_REGISTER_FUNCTION = 'gsm-intake-register';
export const VERIFY_PACKAGE_FUNCTION = 'gsm-verify-package';

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
 * reason and registers nothing. Staging to origins follows Verify once origins exist.
 */
export const intakeDefinition = (): StateMachine => {
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
        payload: { 'packageId.$': '$.registered.packageId' },
        ResultSelector: { 'state.$': '$.Payload.state', 'packageId.$': '$.Payload.packageId' },
        ResultPath: '$.verified',
        TimeoutSeconds: VERIFY_TIMEOUT_SEC,
        Retry: [retryLambdaService, { ErrorEquals: ['States.Timeout'], MaxAttempts: 1 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.verifyError', Next: 'RejectUnverifiable' }],
        next: 'Done',
      }),
      RejectUnverifiable: lambdaTask(VERIFY_PACKAGE_FUNCTION, {
        Comment: 'Verification kept failing: reject, so the package never stays verifying',
        payload: { 'packageId.$': '$.registered.packageId', 'failure.$': '$.verifyError.Error' },
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
