/**
 * Small typed builders for Amazon States Language (JSONPath only: the local emulator runs
 * neither JSONata nor variables). They return plain JSON, so one definition object serves the
 * emulator, the CDK stack and the console alike.
 */

export type Json = { readonly [key: string]: unknown };

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string | null;
}

/** Where a state goes: the name of the next state, or the end of its machine. */
export type Flow = { readonly Next: string } | { readonly End: true };

export interface PassState {
  readonly Type: 'Pass';
  readonly Comment?: string;
  readonly Parameters?: Json;
  readonly Result?: unknown;
  readonly ResultPath?: string | null;
}

export interface TaskState {
  readonly Type: 'Task';
  readonly Comment?: string;
  readonly Resource: string;
  readonly Parameters?: Json;
  readonly ResultSelector?: Json;
  readonly ResultPath?: string | null;
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly HeartbeatSeconds?: number;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
}

export interface MapState {
  readonly Type: 'Map';
  readonly Comment?: string;
  readonly ItemsPath?: string;
  readonly ItemSelector?: Json;
  readonly MaxConcurrency?: number;
  readonly ItemProcessor: StateMachine & { readonly ProcessorConfig: { readonly Mode: 'INLINE' } };
  readonly ResultPath?: string | null;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
}

export interface ChoiceRule {
  /** Absent on a rule that combines others (And, Or, Not). */
  readonly Variable?: string;
  readonly Next: string;
  readonly [comparison: string]: unknown;
}

export interface ChoiceState {
  readonly Type: 'Choice';
  readonly Comment?: string;
  readonly Choices: readonly ChoiceRule[];
  readonly Default?: string;
}

export interface SucceedState {
  readonly Type: 'Succeed';
  readonly Comment?: string;
}

export interface FailState {
  readonly Type: 'Fail';
  readonly Comment?: string;
  readonly Error?: string;
  readonly Cause?: string;
}

export type State =
  | (PassState & Flow)
  | (TaskState & Flow)
  | (MapState & Flow)
  | ChoiceState
  | SucceedState
  | FailState;

// A type, not an interface: it must fit where plain JSON records are expected (the CDK's AslDefinition).
export type StateMachine = {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Readonly<Record<string, State>>;
  readonly TimeoutSeconds?: number;
};

const flow = (next: string | undefined): Flow => (next === undefined ? { End: true } : { Next: next });

type Options<T> = Omit<T, 'Type' | 'Resource'> & { readonly next?: string };

export const pass = ({ next, ...rest }: Options<PassState> = {}): PassState & Flow => ({
  Type: 'Pass',
  ...rest,
  ...flow(next),
});

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

/**
 * The errors Lambda itself may throw before or around a function: worth retrying, as the
 * Step Functions console's own template does.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * Errors no retry can mend: a task event that failed its schema stays malformed however often
 * it is sent, and a package object written again after it was verified stays another object
 * (`PackageObjectChanged`, functions/tasks/plan-staging). The first retrier that matches an error decides, so this one, placed first with
 * no attempts, sends them straight to the Catch (or fails the state) instead of retrying them
 * as `States.TaskFailed` 2–3 times.
 */
export const PERMANENT_TASK_ERRORS = ['ValidationError', 'PackageObjectChanged'] as const;

export const neverRetryPermanent: Retrier = { ErrorEquals: PERMANENT_TASK_ERRORS, MaxAttempts: 0 };

/** A Lambda task's retriers, behind the one that refuses to retry permanent errors. */
const retriers = (retry: readonly Retrier[] | undefined): { readonly Retry?: readonly Retrier[] } =>
  retry === undefined || retry.length === 0 ? {} : { Retry: [neverRetryPermanent, ...retry] };

export const retryLambdaService: Retrier = {
  ErrorEquals: LAMBDA_SERVICE_ERRORS,
  IntervalSeconds: 1,
  MaxAttempts: 3,
  BackoffRate: 2,
};

/**
 * A `lambda:invoke` task naming its function by name: the CDK stack swaps in the deployed
 * function's ARN, the emulator resolves the name to the handler module. The result is the
 * Invoke response; the function's own result is its `Payload`.
 */
export const lambdaTask = (
  functionName: string,
  {
    payload,
    next,
    Retry,
    ...rest
  }: Omit<Options<TaskState>, 'Parameters'> & { readonly payload: Json | string },
): TaskState & Flow => ({
  Type: 'Task',
  Resource: LAMBDA_INVOKE,
  Parameters:
    typeof payload === 'string'
      ? { FunctionName: functionName, 'Payload.$': payload }
      : { FunctionName: functionName, Payload: payload },
  ...rest,
  ...retriers(Retry),
  ...flow(next),
});

/** A task handed to whichever worker polls the activity (here: a relay). */
export const activityTask = (
  activityArn: string,
  { next, ...rest }: Options<TaskState>,
): TaskState & Flow => ({
  Type: 'Task',
  Resource: activityArn,
  ...rest,
  ...flow(next),
});

export const inlineMap = ({
  processor,
  next,
  ...rest
}: Omit<Options<MapState>, 'ItemProcessor'> & { readonly processor: StateMachine }): MapState & Flow => ({
  Type: 'Map',
  ...rest,
  ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...processor },
  ...flow(next),
});

export const choice = (choices: readonly ChoiceRule[], otherwise?: string): ChoiceState => ({
  Type: 'Choice',
  Choices: choices,
  ...(otherwise === undefined ? {} : { Default: otherwise }),
});

export const succeed = (comment?: string): SucceedState => ({
  Type: 'Succeed',
  ...(comment === undefined ? {} : { Comment: comment }),
});

export const fail = (error: string, cause: string): FailState => ({
  Type: 'Fail',
  Error: error,
  Cause: cause,
});

/** `arn:aws:states:<region>:<account>:activity:<name>`: what a definition names an activity by. */
export const activityArn = ({
  region,
  accountId,
  name,
}: {
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
}): string => `arn:aws:states:${region}:${accountId}:activity:${name}`;

export const LAMBDA_INVOKE_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/**
 * A `lambda:invoke.waitForTaskToken` task: the function gets the token in its payload and the
 * state waits until someone sends it back. Always give TimeoutSeconds: the emulator's default
 * is 60 s, not AWS's year.
 */
export const lambdaCallbackTask = (
  functionName: string,
  {
    payload,
    next,
    Retry,
    ...rest
  }: Omit<Options<TaskState>, 'Parameters'> & { readonly payload: Json; readonly TimeoutSeconds: number },
): TaskState & Flow => ({
  Type: 'Task',
  Resource: LAMBDA_INVOKE_CALLBACK,
  Parameters: { FunctionName: functionName, Payload: payload },
  ...rest,
  ...retriers(Retry),
  ...flow(next),
});
