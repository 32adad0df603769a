import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidArn,
  InvalidDefinition,
  InvalidExecutionInput,
  InvalidName,
  ListExecutionsCommand,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMachine,
  historyOf,
  ROLE_ARN,
  startTestStack,
  stopTestStack,
  type TestStack,
  typesOf,
  uniqueName,
  waitForEnd,
} from './test-support.js';

const passMachine = {
  StartAt: 'Greet',
  States: {
    Greet: { Type: 'Pass', Parameters: { 'greeting.$': "States.Format('hello {}', $.who)" }, Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};

const waitMachine = { StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 30, End: true } } };

describe('local Step Functions: state machines and executions', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stopTestStack(stack);
  });

  it('runs a Pass state machine and records the AWS history', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, passMachine, 'greeter');
    expect(stateMachineArn).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:greeter');

    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'run-1', input: '{"who":"gsm"}' }),
    );
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:greeter:run-1');
    expect(started.startDate).toBeInstanceOf(Date);

    const done = await waitForEnd(client, started.executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ greeting: 'hello gsm' });
    expect(done.input).toBe('{"who":"gsm"}');
    expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());

    const events = await historyOf(client, started.executionArn!);
    expect(typesOf(events)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.map((event) => event.previousEventId)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events[0]!.executionStartedEventDetails).toMatchObject({
      input: '{"who":"gsm"}',
      roleArn: ROLE_ARN,
    });
    expect(events[1]!.stateEnteredEventDetails).toMatchObject({ name: 'Greet', input: '{"who":"gsm"}' });
    expect(events[2]!.stateExitedEventDetails).toMatchObject({
      name: 'Greet',
      output: '{"greeting":"hello gsm"}',
    });
    expect(events[5]!.executionSucceededEventDetails?.output).toBe('{"greeting":"hello gsm"}');
    expect(events[0]!.timestamp).toBeInstanceOf(Date);
  });

  it('reports a Fail state with its error and cause', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, {
      StartAt: 'Nope',
      States: { Nope: { Type: 'Fail', Error: 'Gsm.Refused', Cause: 'not today' } },
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const done = await waitForEnd(client, executionArn!);
    expect(done).toMatchObject({ status: 'FAILED', error: 'Gsm.Refused', cause: 'not today' });
    const events = await historyOf(client, executionArn!);
    expect(typesOf(events)).toEqual(['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
    expect(events[2]!.executionFailedEventDetails).toEqual({ error: 'Gsm.Refused', cause: 'not today' });
  });

  it('makes StartExecution idempotent by name and input, and refuses a different input', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, waitMachine);
    const first = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'once', input: '{"a":1}' }),
    );
    const again = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'once', input: '{"a":1}' }),
    );
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn, name: 'once', input: '{"a":2}' })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);

    await client.send(
      new StopExecutionCommand({ executionArn: first.executionArn, error: 'Op.Stop', cause: 'by test' }),
    );
    // A closed execution's name can never be reused, even with the same input.
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn, name: 'once', input: '{"a":1}' })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('stops an execution: ABORTED with an ExecutionAborted event', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, waitMachine);
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const stopped = await client.send(
      new StopExecutionCommand({ executionArn, error: 'Op.Cancel', cause: 'operator' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Op.Cancel', cause: 'operator' });
    const events = await historyOf(client, executionArn!);
    expect(typesOf(events)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionAborted']);
    expect(events.at(-1)!.executionAbortedEventDetails).toEqual({ error: 'Op.Cancel', cause: 'operator' });
  });

  it('lists executions newest first, filters by status and pages with nextToken', async () => {
    const { client } = stack;
    const stateMachineArn = await createMachine(client, waitMachine);
    const names = ['e1', 'e2', 'e3'];
    for (const name of names) await client.send(new StartExecutionCommand({ stateMachineArn, name }));
    await client.send(
      new StopExecutionCommand({
        executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:e2`,
      }),
    );

    const first = await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2 }));
    expect(first.executions!.map((item) => item.name)).toEqual(['e3', 'e2']);
    expect(first.nextToken).toBeTruthy();
    const second = await client.send(
      new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken: first.nextToken }),
    );
    expect(second.executions!.map((item) => item.name)).toEqual(['e1']);
    expect(second.nextToken).toBeUndefined();

    const running = await client.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }),
    );
    expect(running.executions!.map((item) => item.name)).toEqual(['e3', 'e1']);
    const aborted = await client.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'ABORTED' }),
    );
    expect(aborted.executions!.map((item) => [item.name, item.status])).toEqual([['e2', 'ABORTED']]);
    for (const name of ['e1', 'e3']) {
      await client.send(
        new StopExecutionCommand({
          executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
        }),
      );
    }
  });

  it.each([
    [
      'JSONata',
      {
        QueryLanguage: 'JSONata',
        StartAt: 'A',
        States: { A: { Type: 'Pass', Output: '{% 1 %}', End: true } },
      },
    ],
    [
      'JSONata on one state',
      { StartAt: 'A', States: { A: { Type: 'Pass', QueryLanguage: 'JSONata', End: true } } },
    ],
    ['Assign', { StartAt: 'A', States: { A: { Type: 'Pass', Assign: { x: 1 }, End: true } } }],
    [
      'ItemReader',
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: { Bucket: 'b', Key: 'k' } },
            ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
            End: true,
          },
        },
      },
    ],
    [
      'DISTRIBUTED mode',
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'P',
              States: { P: { Type: 'Pass', End: true } },
            },
            End: true,
          },
        },
      },
    ],
    ['a missing transition target', { StartAt: 'Nowhere', States: { A: { Type: 'Pass', End: true } } }],
    [
      'an unsupported service integration',
      {
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } },
      },
    ],
    [
      'HeartbeatSeconds not below TimeoutSeconds',
      {
        StartAt: 'A',
        States: {
          A: {
            Type: 'Task',
            Resource: 'arn:aws:states:us-east-1:123456789012:activity:x',
            TimeoutSeconds: 5,
            HeartbeatSeconds: 5,
            End: true,
          },
        },
      },
    ],
  ])('refuses a definition with %s as InvalidDefinition', async (_label, definition) => {
    await expect(
      stack.client.send(
        new CreateStateMachineCommand({
          name: uniqueName('bad'),
          definition: JSON.stringify(definition),
          roleArn: ROLE_ARN,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidDefinition);
  });

  it('refuses invalid JSON as InvalidDefinition, also on UpdateStateMachine', async () => {
    const { client } = stack;
    await expect(
      client.send(
        new CreateStateMachineCommand({
          name: uniqueName('bad'),
          definition: '{"StartAt":',
          roleArn: ROLE_ARN,
        }),
      ),
    ).rejects.toThrow(/Invalid State Machine Definition/);
    const stateMachineArn = await createMachine(client, passMachine);
    await expect(
      client.send(
        new UpdateStateMachineCommand({ stateMachineArn, definition: '{"QueryLanguage":"JSONata"}' }),
      ),
    ).rejects.toBeInstanceOf(InvalidDefinition);
  });

  it('creates idempotently, refuses a changed definition under the same name and updates in place', async () => {
    const { client } = stack;
    const name = uniqueName('same');
    const first = await createMachine(client, passMachine, name);
    expect(await createMachine(client, passMachine, name)).toBe(first);
    await expect(createMachine(client, waitMachine, name)).rejects.toBeInstanceOf(StateMachineAlreadyExists);
    await client.send(
      new UpdateStateMachineCommand({ stateMachineArn: first, definition: JSON.stringify(waitMachine) }),
    );
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: first }));
    expect(JSON.parse(described.definition!)).toEqual(waitMachine);
    expect(described).toMatchObject({ name, status: 'ACTIVE', type: 'STANDARD', roleArn: ROLE_ARN });
  });

  it('answers unknown, malformed and misnamed resources with the AWS errors', async () => {
    const { client } = stack;
    const missing = 'arn:aws:states:us-east-1:123456789012:stateMachine:missing';
    await expect(client.send(new StartExecutionCommand({ stateMachineArn: missing }))).rejects.toBeInstanceOf(
      StateMachineDoesNotExist,
    );
    await expect(
      client.send(new DescribeStateMachineCommand({ stateMachineArn: missing })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      client.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidArn);
    await expect(
      client.send(
        new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:x:y' }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    const stateMachineArn = await createMachine(client, passMachine);
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn, name: 'bad name' })),
    ).rejects.toBeInstanceOf(InvalidName);
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn, input: '{nope' })),
    ).rejects.toBeInstanceOf(InvalidExecutionInput);
  });
});
