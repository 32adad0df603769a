import {
  DescribeStateMachineForExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMachine,
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

/** A task that fails and is caught, then a Map whose iterations run a task: what the console draws. */
const DEFINITION = {
  StartAt: 'Explode',
  States: {
    Explode: {
      Type: 'Task',
      Resource: `${FUNCTION_ARN}:explode`,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Recovered' }],
      Next: 'Unreached',
    },
    Unreached: { Type: 'Pass', End: true },
    Recovered: { Type: 'Pass', Result: [1, 2, 3], ResultPath: '$.items', Next: 'EachItem' },
    EachItem: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Double',
        States: { Double: { Type: 'Task', Resource: `${FUNCTION_ARN}:double`, End: true } },
      },
      End: true,
    },
  },
};

describe('local Step Functions: DescribeStateMachineForExecution and GetExecutionHistory', () => {
  let stack: TestStack;
  let machineArn: string;
  let executionArn: string;

  beforeAll(async () => {
    stack = await startTestStack(async (name) => {
      if (name === 'explode')
        return async () => {
          throw new HostOfflineError('h1 is offline');
        };
      if (name === 'double') return async (event) => (event as number) * 2;
      return undefined;
    });
    machineArn = await createMachine(stack.client, DEFINITION);
    const started = await stack.client.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, input: '{}' }),
    );
    executionArn = started.executionArn!;
    expect((await waitForEnd(stack.client, executionArn)).status).toBe('SUCCEEDED');
  });

  afterAll(() => stopTestStack(stack));

  it('describes the state machine an execution ran, with its definition as created', async () => {
    const described = await stack.client.send(new DescribeStateMachineForExecutionCommand({ executionArn }));

    expect(described.stateMachineArn).toBe(machineArn);
    expect(described.name).toBe(machineArn.split(':').at(-1));
    expect(JSON.parse(described.definition!)).toEqual(DEFINITION);
    expect(described.roleArn).toMatch(/^arn:aws:iam::/);
    expect(described.updateDate).toBeInstanceOf(Date);
  });

  it('keeps the definition an execution started with when the machine is updated later', async () => {
    const updated = { ...DEFINITION, Comment: 'changed after the run' };
    await stack.client.send(
      new UpdateStateMachineCommand({ stateMachineArn: machineArn, definition: JSON.stringify(updated) }),
    );

    const described = await stack.client.send(new DescribeStateMachineForExecutionCommand({ executionArn }));

    expect(JSON.parse(described.definition!)).toEqual(DEFINITION);
  });

  it('answers ExecutionDoesNotExist for an unknown execution', async () => {
    const unknown = executionArn.replace(/:[^:]+$/, ':never-started');

    await expect(
      stack.client.send(new DescribeStateMachineForExecutionCommand({ executionArn: unknown })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('records a caught failure as the failed task, its exit, then the catcher entered, as AWS does', async () => {
    const { events = [] } = await stack.client.send(new GetExecutionHistoryCommand({ executionArn }));
    const types = typesOf(events);
    const failed = types.indexOf('LambdaFunctionFailed');
    const recovered = events.findIndex((event) => event.stateEnteredEventDetails?.name === 'Recovered');

    expect(types.slice(0, failed + 1)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
    ]);
    expect(events[failed]?.lambdaFunctionFailedEventDetails?.error).toBe('HostOfflineError');
    expect(recovered).toBeGreaterThan(failed);
    // As AWS records it: the task state exits (its output the error), then the catcher is entered.
    expect(types.slice(failed + 1, recovered)).toEqual(['TaskStateExited']);
    expect(events[failed + 1]?.stateExitedEventDetails?.name).toBe('Explode');
    expect(events.some((event) => nameOf(event) === 'Unreached')).toBe(false);
  });

  it('names every state a Map iteration enters and exits', async () => {
    const { events = [] } = await stack.client.send(new GetExecutionHistoryCommand({ executionArn }));
    const named = (type: string) =>
      events.filter((event) => event.type === type).map((event) => nameOf(event));

    expect(named('TaskStateEntered')).toEqual(['Explode', 'Double', 'Double', 'Double']);
    expect(named('TaskStateExited').filter((name) => name === 'Double')).toEqual([
      'Double',
      'Double',
      'Double',
    ]);
    expect(named('MapStateExited')).toEqual(['EachItem']);
    expect(typesOf(events).at(-1)).toBe('ExecutionSucceeded');
  });

  it('pages the history with nextToken, in order and without gaps, and in reverse', async () => {
    const { events: all = [] } = await stack.client.send(new GetExecutionHistoryCommand({ executionArn }));
    const paged: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await stack.client.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 4, ...(nextToken ? { nextToken } : {}) }),
      );
      expect(page.events!.length).toBeLessThanOrEqual(4);
      paged.push(...page.events!);
      nextToken = page.nextToken;
    } while (nextToken);
    const reversed = await stack.client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }),
    );

    expect(all.length).toBeGreaterThan(8);
    expect(paged.map((event) => event.id)).toEqual(all.map((event) => event.id));
    expect(reversed.events?.map((event) => event.type)).toEqual(['ExecutionSucceeded']);
  });
});

const nameOf = (event: HistoryEvent): string | undefined =>
  event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
