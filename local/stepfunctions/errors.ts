import '../polyfills.js';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

/** The `__type` names the Step Functions API answers with; the SDK maps each to an exception class. */
export type SfnErrorType =
  | 'ActivityDoesNotExist'
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'InvalidArn'
  | 'InvalidDefinition'
  | 'InvalidExecutionInput'
  | 'InvalidName'
  | 'InvalidOutput'
  | 'InvalidToken'
  | 'StateMachineAlreadyExists'
  | 'StateMachineDoesNotExist'
  | 'TaskDoesNotExist'
  | 'TaskTimedOut'
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException';

/** An API error as a client sees it: HTTP 400 with `{"__type", "message"}`. */
export class SfnError extends Error {
  readonly type: SfnErrorType;

  constructor(type: SfnErrorType, message: string) {
    super(message);
    this.name = type;
    this.type = type;
  }
}

/**
 * A task failure handed to aws-local-stepfunctions: Retry and Catch match on `name` and a
 * Catch's `Cause` is `message`, so both carry exactly what AWS would show.
 */
export const taskError = (error: string, cause: string): Error => {
  const failure = new Error(cause);
  failure.name = error;
  return failure;
};

type ErrorClass = new () => Error;
let libraryTimeoutClass: ErrorClass | undefined;

/**
 * The library exempts only its own (unexported) StatesTimeoutError from `States.TaskFailed`,
 * as AWS exempts timeouts. Our timers must fail tasks with an instance of that class, so we
 * provoke one 1 ms timeout once and keep its constructor.
 */
export const loadTimeoutErrorClass = async (): Promise<void> => {
  if (libraryTimeoutClass) return;
  const probe: StateMachineDefinition = {
    StartAt: 'Probe',
    States: {
      Probe: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:us-east-1:000000000000:function:probe',
        TimeoutSeconds: 0.001,
        End: true,
      },
    },
  };
  const run = new StateMachine(probe, { validationOptions: { noValidate: true } }).run(
    {},
    {
      overrides: {
        taskResourceLocalHandlers: { Probe: () => new Promise((resolve) => setTimeout(resolve, 50, null)) },
      },
    },
  );
  try {
    await run.result;
  } catch (error) {
    const cause = error instanceof ExecutionError ? error.cause : undefined;
    if (cause instanceof Error && cause.name === 'States.Timeout') {
      libraryTimeoutClass = cause.constructor as ErrorClass;
    }
  }
};

export type TimeoutErrorName = 'States.Timeout' | 'States.HeartbeatTimeout';

export const timeoutError = (name: TimeoutErrorName, cause: string): Error => {
  const failure = libraryTimeoutClass ? new libraryTimeoutClass() : new Error();
  failure.name = name;
  failure.message = cause;
  return failure;
};
