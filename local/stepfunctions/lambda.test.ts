import { SendTaskFailureCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaHandler } from './index.js';
import {
  createMachine,
  historyOf,
  startTestStack,
  stopTestStack,
  type TestStack,
  typesOf,
  waitForEnd,
} from './test-support.js';

class HostOfflineError extends Error {
  override name = 'HostOfflineError';
}

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function';

describe('local Step Functions: Lambda task states', () => {
  let stack: TestStack;
  const calls: Array<{ name: string; event: unknown }> = [];
  const callbacks: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let flakyFailures = 0;

  const handlers: Record<string, LambdaHandler> = {
    double: async (event) => {
      const { n } = event as { n: number };
      return { doubled: n * 2 };
    },
    explode: async () => {
      throw new HostOfflineError('h1 is offline');
    },
    slowDouble: async (event) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 100));
      inFlight--;
      return (event as { n: number }).n * 2;
    },
    flaky: async () => {
      if (flakyFailures++ < 2) throw new HostOfflineError('try again');
      return 'steady';
    },
    notify: async (event) => {
      callbacks.push((event as { token: string }).token);
      return { queued: true };
    },
    sleepy: async () => new Promise((resolve) => setTimeout(resolve, 5_000, 'late')),
  };

  beforeAll(async () => {
    stack = await startTestStack(async (name) => {
      const handler = handlers[name];
      if (!handler) return undefined;
      return async (event, context) => {
        calls.push({ name: context.functionName, event });
        return handler(event, context);
      };
    });
  });
  afterAll(async () => {
    await stopTestStack(stack);
  });

  it('wraps lambda:invoke results as the Invoke response and passes function-ARN results through raw', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Invoke',
      States: {
        Invoke: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: `${FUNCTION_ARN}:double`, 'Payload.$': '$' },
          ResultPath: '$.invoked',
          Next: 'Direct',
        },
        Direct: {
          Type: 'Task',
          Resource: `${FUNCTION_ARN}:double`,
          InputPath: '$.invoked.Payload',
          ResultPath: '$.direct',
          End: true,
        },
      },
    });
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"n":4}' }),
    );
    const done = await waitForEnd(client, executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!);
    expect(output.invoked).toMatchObject({
      ExecutedVersion: '$LATEST',
      Payload: { doubled: 8 },
      StatusCode: 200,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: expect.any(String) },
    });
    // Direct got {"doubled": 8} as n is missing: NaN*2 is null after JSON, as in Lambda.
    expect(output.direct).toEqual({ doubled: null });
    expect(calls.filter((call) => call.name === 'double').map((call) => call.event)).toEqual([
      { n: 4 },
      { doubled: 8 },
    ]);

    const events = await historyOf(client, executionArn!);
    expect(typesOf(events)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const scheduled = events.find((event) => event.type === 'TaskScheduled')!.taskScheduledEventDetails!;
    expect(scheduled).toMatchObject({ resourceType: 'lambda', resource: 'invoke', region: 'us-east-1' });
    expect(JSON.parse(scheduled.parameters!)).toEqual({
      FunctionName: `${FUNCTION_ARN}:double`,
      Payload: { n: 4 },
    });
    expect(
      events.find((event) => event.type === 'LambdaFunctionScheduled')!.lambdaFunctionScheduledEventDetails,
    ).toMatchObject({
      resource: `${FUNCTION_ARN}:double`,
      input: '{"doubled":8}',
    });
  });

  it("fails with the function's error type and the runtime's JSON cause, for both resource forms", async () => {
    const { client } = stack;
    for (const state of [
      {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'explode' },
        End: true,
      },
      { Type: 'Task', Resource: `${FUNCTION_ARN}:explode`, End: true },
    ]) {
      const stateMachineArn = await createMachine(client, { StartAt: 'Boom', States: { Boom: state } });
      const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
      const done = await waitForEnd(client, executionArn!);
      expect(done.status).toBe('FAILED');
      expect(done.error).toBe('HostOfflineError');
      const cause = JSON.parse(done.cause!);
      expect(cause).toMatchObject({ errorType: 'HostOfflineError', errorMessage: 'h1 is offline' });
      expect(cause.trace[0]).toBe('HostOfflineError: h1 is offline');
      const types = typesOf(await historyOf(client, executionArn!));
      expect(types.at(-2)).toBe(
        state.Resource.startsWith('arn:aws:states') ? 'TaskFailed' : 'LambdaFunctionFailed',
      );
    }
  });

  it('fails an unknown function with Lambda.ResourceNotFoundException', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Ghost',
      States: {
        Ghost: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'ghost' },
          End: true,
        },
      },
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const done = await waitForEnd(client, executionArn!);
    expect(done).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
    expect(done.cause).toContain(`${FUNCTION_ARN}:ghost`);
  });

  it('retries a failing function per its Retry policy', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Flaky',
      States: {
        Flaky: {
          Type: 'Task',
          Resource: `${FUNCTION_ARN}:flaky`,
          Retry: [{ ErrorEquals: ['HostOfflineError'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1 }],
          End: true,
        },
      },
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const done = await waitForEnd(client, executionArn!);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '"steady"' });
    const types = typesOf(await historyOf(client, executionArn!));
    expect(types.filter((type) => type === 'LambdaFunctionFailed')).toHaveLength(2);
    expect(types.filter((type) => type === 'LambdaFunctionSucceeded')).toHaveLength(1);
  });

  it('times out a slow function with States.Timeout', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Slow',
      States: { Slow: { Type: 'Task', Resource: `${FUNCTION_ARN}:sleepy`, TimeoutSeconds: 1, End: true } },
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const done = await waitForEnd(client, executionArn!);
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(typesOf(await historyOf(client, executionArn!)).at(-2)).toBe('LambdaFunctionTimedOut');
  });

  it('waits for SendTaskSuccess on lambda:invoke.waitForTaskToken, with a unique token per task', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Ask',
      States: {
        Ask: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'notify', Payload: { 'token.$': '$$.Task.Token', 'host.$': '$.host' } },
          HeartbeatSeconds: 2,
          TimeoutSeconds: 5,
          Catch: [{ ErrorEquals: ['Approval.Denied'], ResultPath: '$.denied', Next: 'Denied' }],
          End: true,
        },
        Denied: { Type: 'Pass', End: true },
      },
    });
    callbacks.length = 0;
    const yes = await client.send(new StartExecutionCommand({ stateMachineArn, input: '{"host":"h1"}' }));
    const no = await client.send(new StartExecutionCommand({ stateMachineArn, input: '{"host":"h2"}' }));
    for (let tries = 0; callbacks.length < 2 && tries < 100; tries++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(callbacks).toHaveLength(2);
    expect(new Set(callbacks).size).toBe(2);
    expect(callbacks.every((token) => token.startsWith('AQ') && !token.includes('__'))).toBe(true);

    const tokenOf = (host: string) =>
      callbacks[
        calls.filter((c) => c.name === 'notify').findIndex((c) => (c.event as { host: string }).host === host)
      ]!;
    await client.send(new SendTaskSuccessCommand({ taskToken: tokenOf('h1'), output: '{"approved":true}' }));
    await client.send(
      new SendTaskFailureCommand({
        taskToken: tokenOf('h2'),
        error: 'Approval.Denied',
        cause: 'operator said no',
      }),
    );

    const approved = await waitForEnd(client, yes.executionArn!);
    expect(approved).toMatchObject({ status: 'SUCCEEDED', output: '{"approved":true}' });
    const denied = await waitForEnd(client, no.executionArn!);
    expect(JSON.parse(denied.output!).denied).toEqual({
      Error: 'Approval.Denied',
      Cause: 'operator said no',
    });

    const events = await historyOf(client, yes.executionArn!);
    expect(typesOf(events)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const submitted = events.find((event) => event.type === 'TaskSubmitted')!.taskSubmittedEventDetails!;
    expect(submitted.resource).toBe('invoke.waitForTaskToken');
    expect(JSON.parse(submitted.output!).Payload).toEqual({ queued: true });
    expect(events.find((event) => event.type === 'TaskScheduled')!.taskScheduledEventDetails).toMatchObject({
      heartbeatInSeconds: 2,
      timeoutInSeconds: 5,
    });
  });

  it('runs a Map state with MaxConcurrency, one lambda per item', async () => {
    const { client } = stack;
    maxInFlight = 0;
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 2,
          ItemSelector: { 'n.$': '$$.Map.Item.Value' },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Double',
            States: {
              Double: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: { FunctionName: 'slowDouble', 'Payload.$': '$' },
                OutputPath: '$.Payload',
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"items":[1,2,3,4,5]}' }),
    );
    const done = await waitForEnd(client, executionArn!);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '[2,4,6,8,10]' });
    expect(maxInFlight).toBe(2);
    const events = await historyOf(client, executionArn!);
    const types = typesOf(events);
    expect(types.slice(0, 3)).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapStateStarted']);
    expect(events[2]!.mapStateStartedEventDetails).toEqual({ length: 5 });
    expect(types.slice(-3)).toEqual(['MapStateSucceeded', 'MapStateExited', 'ExecutionSucceeded']);
    expect(types.filter((type) => type === 'MapIterationStarted')).toHaveLength(5);
    expect(types.filter((type) => type === 'MapIterationSucceeded')).toHaveLength(5);
    expect(types.filter((type) => type === 'TaskSucceeded')).toHaveLength(5);
    // Every task's events sit between its iteration's start and success.
    const firstIteration = events.find((event) => event.type === 'MapIterationStarted')!;
    const firstScheduled = events.find((event) => event.type === 'TaskScheduled')!;
    expect(firstScheduled.id!).toBeGreaterThan(firstIteration.id!);
  });
});
