import {
  CreateActivityCommand,
  GetActivityTaskCommand,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activityArnOf,
  createMachine,
  historyOf,
  startTestStack,
  stopTestStack,
  type TestStack,
  typesOf,
  uniqueName,
  waitForEnd,
} from './test-support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('local Step Functions: activity tasks and task tokens', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stopTestStack(stack);
  });

  const newActivity = async (): Promise<string> => {
    const created = await stack.client.send(new CreateActivityCommand({ name: uniqueName('act') }));
    return created.activityArn!;
  };

  const activityMachine = (activityArn: string, task: Record<string, unknown> = {}) => ({
    StartAt: 'Prepare',
    States: {
      Prepare: { Type: 'Pass', Result: { host: 'h1' }, ResultPath: '$.target', Next: 'Work' },
      Work: { Type: 'Task', Resource: activityArn, ResultPath: '$.work', End: true, ...task },
    },
  });

  it('completes an activity through GetActivityTask, heartbeats and SendTaskSuccess, with the AWS history', async () => {
    const { client } = stack;
    const activityArn = await newActivity();
    const stateMachineArn = await createMachine(
      client,
      activityMachine(activityArn, { HeartbeatSeconds: 1, TimeoutSeconds: 10 }),
    );
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"job":7}' }),
    );

    const task = await client.send(new GetActivityTaskCommand({ activityArn, workerName: 'relay-1' }));
    expect(JSON.parse(task.input!)).toEqual({ job: 7, target: { host: 'h1' } });
    for (let beat = 0; beat < 3; beat++) {
      await sleep(500);
      await client.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    }
    await client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"ok":true}' }));

    const done = await waitForEnd(client, executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ job: 7, target: { host: 'h1' }, work: { ok: true } });

    const events = await historyOf(client, executionArn!);
    expect(typesOf(events)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'ActivityScheduled',
      'ActivityStarted',
      'ActivitySucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const byType = Object.fromEntries(events.map((event) => [event.type, event]));
    expect(byType.ActivityScheduled!.activityScheduledEventDetails).toEqual({
      resource: activityArn,
      input: '{"job":7,"target":{"host":"h1"}}',
      inputDetails: { truncated: false },
      timeoutInSeconds: 10,
      heartbeatInSeconds: 1,
    });
    expect(byType.ActivityStarted!.activityStartedEventDetails).toEqual({ workerName: 'relay-1' });
    expect(byType.ActivitySucceeded!.activitySucceededEventDetails?.output).toBe('{"ok":true}');

    // The task is closed: AWS answers TaskTimedOut ("Provided task does not exist anymore").
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('starts the first Task state after ExecutionStarted even though the library calls it synchronously', async () => {
    const { client } = stack;
    const activityArn = await newActivity();
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Work',
      States: { Work: { Type: 'Task', Resource: activityArn, End: true } },
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const task = await client.send(new GetActivityTaskCommand({ activityArn }));
    await client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '"done"' }));
    expect((await waitForEnd(client, executionArn!)).output).toBe('"done"');
    expect(typesOf(await historyOf(client, executionArn!))).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'ActivityScheduled',
      'ActivityStarted',
      'ActivitySucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('fails the task with States.HeartbeatTimeout when heartbeats stop; a late success gets TaskTimedOut', async () => {
    const { client } = stack;
    const activityArn = await newActivity();
    const stateMachineArn = await createMachine(
      client,
      activityMachine(activityArn, { HeartbeatSeconds: 1 }),
    );
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const task = await client.send(new GetActivityTaskCommand({ activityArn }));
    await sleep(300);
    await client.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));

    const done = await waitForEnd(client, executionArn!);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('States.HeartbeatTimeout');
    const events = await historyOf(client, executionArn!);
    expect(typesOf(events).slice(-3)).toEqual(['ActivityStarted', 'ActivityTimedOut', 'ExecutionFailed']);
    expect(events.at(-2)!.activityTimedOutEventDetails?.error).toBe('States.HeartbeatTimeout');

    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(
      client.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('enforces TimeoutSeconds with States.Timeout, which a States.Timeout catcher catches and States.TaskFailed does not', async () => {
    const { client } = stack;
    const activityArn = await newActivity();
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: activityArn,
          TimeoutSeconds: 1,
          Catch: [
            { ErrorEquals: ['States.TaskFailed'], Next: 'Wrong' },
            { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' },
          ],
          End: true,
        },
        Wrong: { Type: 'Fail', Error: 'Wrong.Catcher' },
        TimedOut: { Type: 'Pass', End: true },
      },
    });
    const startedAt = Date.now();
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const done = await waitForEnd(client, executionArn!);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).error.Error).toBe('States.Timeout');
    const types = typesOf(await historyOf(client, executionArn!));
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'ActivityScheduled',
      'ActivityTimedOut',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('fails a task with SendTaskFailure error and cause, routed by Catch', async () => {
    const { client } = stack;
    const activityArn = await newActivity();
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: activityArn,
          Catch: [{ ErrorEquals: ['Host.Unreachable'], ResultPath: '$.failure', Next: 'Recover' }],
          End: true,
        },
        Recover: { Type: 'Pass', End: true },
      },
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const task = await client.send(new GetActivityTaskCommand({ activityArn }));
    await client.send(
      new SendTaskFailureCommand({
        taskToken: task.taskToken,
        error: 'Host.Unreachable',
        cause: 'no route to h1',
      }),
    );
    const done = await waitForEnd(client, executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).failure).toEqual({ Error: 'Host.Unreachable', Cause: 'no route to h1' });
    const events = await historyOf(client, executionArn!);
    const failed = events.find((event) => event.type === 'ActivityFailed');
    expect(failed?.activityFailedEventDetails).toEqual({
      error: 'Host.Unreachable',
      cause: 'no route to h1',
    });
  });

  it('retries a failed activity with a fresh token per attempt', async () => {
    const { client } = stack;
    const activityArn = await newActivity();
    const stateMachineArn = await createMachine(
      client,
      activityMachine(activityArn, {
        Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
      }),
    );
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const first = await client.send(new GetActivityTaskCommand({ activityArn }));
    await client.send(
      new SendTaskFailureCommand({ taskToken: first.taskToken, error: 'Flaky', cause: 'once' }),
    );
    const second = await client.send(new GetActivityTaskCommand({ activityArn }));
    expect(second.taskToken).not.toBe(first.taskToken);
    await client.send(new SendTaskSuccessCommand({ taskToken: second.taskToken, output: '1' }));
    expect((await waitForEnd(client, executionArn!)).status).toBe('SUCCEEDED');
    const types = typesOf(await historyOf(client, executionArn!));
    expect(types.filter((type) => type === 'ActivityScheduled')).toHaveLength(2);
    expect(types.filter((type) => type === 'TaskStateEntered')).toHaveLength(1);
  });

  it('drops the tokens of a stopped execution', async () => {
    const { client } = stack;
    const activityArn = await newActivity();
    const stateMachineArn = await createMachine(client, activityMachine(activityArn));
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const task = await client.send(new GetActivityTaskCommand({ activityArn }));
    await client.send(new StopExecutionCommand({ executionArn }));
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    expect((await waitForEnd(client, executionArn!)).status).toBe('ABORTED');
  });

  it('answers garbage tokens with InvalidToken and unknown well-formed tokens with TaskDoesNotExist', async () => {
    const { client } = stack;
    for (const send of [
      (taskToken: string) => client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })),
      (taskToken: string) => client.send(new SendTaskFailureCommand({ taskToken })),
      (taskToken: string) => client.send(new SendTaskHeartbeatCommand({ taskToken })),
    ]) {
      await expect(send('garbage')).rejects.toBeInstanceOf(InvalidToken);
      await expect(send(`AQCEAAAAKgAAAA${'A'.repeat(128)}`)).rejects.toBeInstanceOf(TaskDoesNotExist);
    }
  });
});

describe('local Step Functions: closing', () => {
  it('ends a pending GetActivityTask long poll with an empty task when the server closes', async () => {
    const stack = await startTestStack();
    const { activityArn } = await stack.client.send(new CreateActivityCommand({ name: 'idle' }));
    expect(activityArnOf('idle')).toBe(activityArn);
    const poll = stack.client.send(new GetActivityTaskCommand({ activityArn }));
    await sleep(100);
    const startedClosing = Date.now();
    await stack.server.close();
    const answer = await poll;
    stack.client.destroy();
    expect(answer.taskToken).toBeUndefined();
    // Well before the 60 s a long poll would otherwise last.
    expect(Date.now() - startedClosing).toBeLessThan(10_000);
  });
});
