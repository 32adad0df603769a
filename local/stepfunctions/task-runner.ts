import { MAX_TIMER_SECONDS, TASK_TOKEN_PLACEHOLDER, type TaskSpec } from './definition.js';
import { type TimeoutErrorName, taskError, timeoutError } from './errors.js';
import { dataDetails, type History } from './history.js';
import { invokeFunction, invokeResponse, type LambdaResolver, parseFunctionRef } from './lambda.js';
import { readSimplePath } from './paths.js';
import type { TaskRegistry } from './tasks.js';

export interface TaskRunContext {
  readonly executionArn: string;
  readonly history: History;
  readonly tasks: TaskRegistry;
  readonly lambdas: LambdaResolver | undefined;
  readonly region: string;
  readonly accountId: string;
  readonly activityExists: (activityArn: string) => boolean;
}

interface Timing {
  readonly timeoutSeconds: number | undefined;
  readonly heartbeatSeconds: number | undefined;
}

/** Lambda's own ceiling, used for getRemainingTimeInMillis when the state sets no timeout. */
const LAMBDA_MAX_MS = 900_000;

const json = (value: unknown): string => JSON.stringify(value ?? null);

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const resolveSeconds = (
  fixed: number | undefined,
  path: string | undefined,
  input: unknown,
  field: string,
): number | undefined => {
  if (fixed !== undefined || path === undefined) return fixed;
  const value = readSimplePath(path, input);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw taskError('States.Runtime', `${field} '${path}' does not point to a positive integer`);
  }
  return value;
};

const swapToken = (value: unknown, token: string): unknown => {
  if (typeof value === 'string') return value.replaceAll(TASK_TOKEN_PLACEHOLDER, token);
  if (Array.isArray(value)) return value.map((item) => swapToken(item, token));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, swapToken(item, token)]));
  }
  return value;
};

const parameter = (input: unknown, key: string): unknown =>
  typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : undefined;

const TIMED_OUT = Symbol('timed out');

const withTimeout = <T>(
  work: Promise<T>,
  timeoutSeconds: number | undefined,
): Promise<T | typeof TIMED_OUT> => {
  if (timeoutSeconds === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, Math.min(timeoutSeconds, MAX_TIMER_SECONDS) * 1000, TIMED_OUT);
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
};

const runActivity = (
  ctx: TaskRunContext,
  spec: TaskSpec,
  input: unknown,
  timing: Timing,
): Promise<unknown> => {
  ctx.history.add('ActivityScheduled', {
    resource: spec.resource,
    input: json(input),
    inputDetails: dataDetails,
    timeoutInSeconds: timing.timeoutSeconds,
    heartbeatInSeconds: timing.heartbeatSeconds,
  });
  if (!ctx.activityExists(spec.resource)) {
    const cause = `Activity does not exist: '${spec.resource}'`;
    ctx.history.add('ActivityScheduleFailed', { error: 'States.Runtime', cause });
    return Promise.reject(taskError('States.Runtime', cause));
  }
  return new Promise((resolve, reject) => {
    ctx.tasks.open({
      executionArn: ctx.executionArn,
      activityArn: spec.resource,
      input: json(input),
      timeoutSeconds: timing.timeoutSeconds,
      heartbeatSeconds: timing.heartbeatSeconds,
      hooks: {
        started: (workerName) => ctx.history.add('ActivityStarted', { workerName }),
        succeeded: (output) => {
          ctx.history.add('ActivitySucceeded', { output, outputDetails: dataDetails });
          resolve(JSON.parse(output));
        },
        failed: (error, cause) => {
          ctx.history.add('ActivityFailed', { error, cause });
          reject(taskError(error ?? '', cause ?? ''));
        },
        timedOut: (error) => {
          ctx.history.add('ActivityTimedOut', { error });
          reject(timeoutError(error, ''));
        },
      },
    });
  });
};

const runLambdaFunction = async (
  ctx: TaskRunContext,
  spec: TaskSpec,
  input: unknown,
  timing: Timing,
): Promise<unknown> => {
  const ref = parseFunctionRef(spec.resource, ctx.region, ctx.accountId);
  ctx.history.add('LambdaFunctionScheduled', {
    resource: spec.resource,
    input: json(input),
    inputDetails: dataDetails,
    timeoutInSeconds: timing.timeoutSeconds,
  });
  if (!ref) throw taskError('States.Runtime', `not a function ARN: ${spec.resource}`);
  let started = false;
  const remainingMs = timing.timeoutSeconds !== undefined ? timing.timeoutSeconds * 1000 : LAMBDA_MAX_MS;
  const invocation = invokeFunction(ctx.lambdas, ref, input, remainingMs, () => {
    started = true;
    ctx.history.add('LambdaFunctionStarted');
  });
  const outcome = await withTimeout(invocation, timing.timeoutSeconds);
  if (outcome === TIMED_OUT) {
    ctx.history.add('LambdaFunctionTimedOut', { error: 'States.Timeout' });
    throw timeoutError('States.Timeout', '');
  }
  if (outcome.ok) {
    ctx.history.add('LambdaFunctionSucceeded', { output: json(outcome.payload), outputDetails: dataDetails });
    return outcome.payload;
  }
  ctx.history.add(started ? 'LambdaFunctionFailed' : 'LambdaFunctionScheduleFailed', {
    error: outcome.error,
    cause: outcome.cause,
  });
  throw taskError(outcome.error, outcome.cause);
};

const runLambdaInvoke = async (ctx: TaskRunContext, input: unknown, timing: Timing): Promise<unknown> => {
  const task = { resourceType: 'lambda', resource: 'invoke' } as const;
  ctx.history.add('TaskScheduled', {
    ...task,
    region: ctx.region,
    parameters: json(input),
    timeoutInSeconds: timing.timeoutSeconds,
    heartbeatInSeconds: timing.heartbeatSeconds,
  });
  ctx.history.add('TaskStarted', task);
  const ref = parseFunctionRef(parameter(input, 'FunctionName'), ctx.region, ctx.accountId);
  if (!ref) {
    const cause = `Invalid FunctionName: ${json(parameter(input, 'FunctionName'))}`;
    ctx.history.add('TaskFailed', { ...task, error: 'Lambda.InvalidParameterValueException', cause });
    throw taskError('Lambda.InvalidParameterValueException', cause);
  }
  const remainingMs = timing.timeoutSeconds !== undefined ? timing.timeoutSeconds * 1000 : LAMBDA_MAX_MS;
  const payload = parameter(input, 'Payload') ?? {};
  const outcome = await withTimeout(
    invokeFunction(ctx.lambdas, ref, payload, remainingMs),
    timing.timeoutSeconds,
  );
  if (outcome === TIMED_OUT) {
    ctx.history.add('TaskTimedOut', { ...task, error: 'States.Timeout' });
    throw timeoutError('States.Timeout', '');
  }
  if (!outcome.ok) {
    ctx.history.add('TaskFailed', { ...task, error: outcome.error, cause: outcome.cause });
    throw taskError(outcome.error, outcome.cause);
  }
  const response = invokeResponse(ref, outcome.payload, outcome.requestId);
  ctx.history.add('TaskSucceeded', { ...task, output: json(response), outputDetails: dataDetails });
  return response;
};

const runLambdaCallback = (ctx: TaskRunContext, input: unknown, timing: Timing): Promise<unknown> => {
  const task = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' } as const;
  return new Promise((resolve, reject) => {
    const fail = (error: string, cause: string): void => {
      ctx.history.add('TaskFailed', { ...task, error, cause });
      reject(taskError(error, cause));
    };
    const token = ctx.tasks.open({
      executionArn: ctx.executionArn,
      timeoutSeconds: timing.timeoutSeconds,
      heartbeatSeconds: timing.heartbeatSeconds,
      hooks: {
        succeeded: (output) => {
          ctx.history.add('TaskSucceeded', { ...task, output, outputDetails: dataDetails });
          resolve(JSON.parse(output));
        },
        failed: (error, cause) => fail(error ?? '', cause ?? ''),
        timedOut: (error: TimeoutErrorName) => {
          ctx.history.add('TaskTimedOut', { ...task, error });
          reject(timeoutError(error, ''));
        },
      },
    });
    const parameters = swapToken(input, token);
    ctx.history.add('TaskScheduled', {
      ...task,
      region: ctx.region,
      parameters: json(parameters),
      timeoutInSeconds: timing.timeoutSeconds,
      heartbeatInSeconds: timing.heartbeatSeconds,
    });
    ctx.history.add('TaskStarted', task);
    const ref = parseFunctionRef(parameter(parameters, 'FunctionName'), ctx.region, ctx.accountId);
    if (!ref) {
      ctx.tasks.discard(token);
      fail(
        'Lambda.InvalidParameterValueException',
        `Invalid FunctionName: ${json(parameter(parameters, 'FunctionName'))}`,
      );
      return;
    }
    const remainingMs = timing.timeoutSeconds !== undefined ? timing.timeoutSeconds * 1000 : LAMBDA_MAX_MS;
    void invokeFunction(ctx.lambdas, ref, parameter(parameters, 'Payload') ?? {}, remainingMs).then(
      (outcome) => {
        // The worker may already have answered (or the task timed out) while the function ran.
        if (!ctx.tasks.isOpen(token)) return;
        if (outcome.ok) {
          ctx.history.add('TaskSubmitted', {
            ...task,
            output: json(invokeResponse(ref, outcome.payload, outcome.requestId)),
            outputDetails: dataDetails,
          });
          ctx.tasks.armHeartbeat(token);
          return;
        }
        ctx.tasks.discard(token);
        fail(outcome.error, outcome.cause);
      },
    );
  });
};

/**
 * The body of every Task state's local handler. It first yields to the event loop: the library
 * calls the first state's handler synchronously inside run(), before its own events are read.
 */
export const runTask = async (ctx: TaskRunContext, spec: TaskSpec, input: unknown): Promise<unknown> => {
  await yieldToEventLoop();
  if (ctx.history.isClosed) throw taskError('States.Runtime', 'the execution has ended');
  const timing: Timing = {
    timeoutSeconds: resolveSeconds(spec.timeoutSeconds, spec.timeoutSecondsPath, input, 'TimeoutSecondsPath'),
    heartbeatSeconds: resolveSeconds(
      spec.heartbeatSeconds,
      spec.heartbeatSecondsPath,
      input,
      'HeartbeatSecondsPath',
    ),
  };
  switch (spec.kind) {
    case 'activity':
      return runActivity(ctx, spec, input, timing);
    case 'lambda-function':
      return runLambdaFunction(ctx, spec, input, timing);
    case 'lambda-invoke':
      return runLambdaInvoke(ctx, input, timing);
    case 'lambda-callback':
      return runLambdaCallback(ctx, input, timing);
  }
};
