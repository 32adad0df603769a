import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NewAction } from '../core/store/types.js';
import { startTestDynamoDb, type TestDynamoDb } from '../test/helpers/dynamodb.js';
import {
  type ActionWorkflowStack,
  type FakeRelay,
  startActionWorkflow,
  startFakeRelay,
} from './action.fixture.js';
import { actionDefinition } from './action.js';

const HOSTS = ['h1', 'h2', 'h3'];

const waitForEnd = async (stack: ActionWorkflowStack, executionArn: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await stack.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING') return out;
    if (Date.now() > deadline) throw new Error(`still running: ${executionArn}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('the action definition', () => {
  it('is plain JSONPath ASL naming its tasks by function name and the relay by activity ARN', () => {
    const arn = 'arn:aws:states:eu-west-1:111122223333:activity:gsm-relay';
    const definition = actionDefinition({ relayActivityArn: arn });
    const text = JSON.stringify(definition);

    expect(text).not.toMatch(/JSONata|"Assign"|"Arguments"|"Output"/);
    expect(text).toContain('"FunctionName":"gsm-plan-action"');
    expect(text).toContain('"FunctionName":"gsm-record-action"');
    expect(text).toContain(`"Resource":"${arn}"`);
    expect(JSON.parse(text)).toEqual(definition);
  });
});

describe('the action workflow on the local emulator', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let relay: FakeRelay | undefined;

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'action-flow');
    for (const id of HOSTS)
      await db.store.hosts.create({ id, address: '127.0.0.1', tags: { group: 'demo' } });
    // A 1 s heartbeat shows a silent relay's shard retried without waiting a minute.
    stack = await startActionWorkflow(db.store, { relayHeartbeatSec: 1 });
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });
  afterAll(async () => {
    await stack?.close();
    await db?.close();
  });

  const run = async (input: Partial<NewAction>) => {
    const action = await db.store.actions.create({
      action: 'status',
      target: { tags: { group: 'demo' } },
      ...input,
    });
    const started = await stack.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.stateMachineArn,
        name: action.id,
        input: JSON.stringify({ actionId: action.id }),
      }),
    );
    const execution = await waitForEnd(stack, started.executionArn as string);
    const jobs = (await db.store.jobs.listByParent(action.id)).items;
    return { execution, action: await db.store.actions.get(action.id), jobs };
  };

  it('runs every host job through the relay and succeeds', async () => {
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store });

    const { execution, action, jobs } = await run({});

    expect(execution.status).toBe('SUCCEEDED');
    expect(action).toMatchObject({
      state: 'succeeded',
      hostIds: HOSTS,
      executionArn: execution.executionArn,
      counters: { total: 3, succeeded: 3, failed: 0 },
    });
    expect(jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('stops dispatching after the first failure with maxErrors 0, and fails the action', async () => {
    relay = startFakeRelay({
      sfn: stack.sfn,
      activityArn: stack.activityArn,
      store: db.store,
      decide: (job) =>
        job.hostId === 'h1'
          ? { state: 'failed', error: { code: 'E_AGENT', message: 'h1 is down' } }
          : { state: 'succeeded' },
    });

    const { execution, action, jobs } = await run({ strategy: { maxConcurrency: 1, maxErrors: 0 } });

    expect(execution.status).toBe('FAILED');
    expect(action).toMatchObject({
      state: 'failed',
      reason: '1 of 3 hosts failed, more than maxErrors (0) allows; 2 not dispatched',
    });
    expect(jobs.map((j) => [j.hostId, j.state])).toEqual([
      ['h1', 'failed'],
      ['h2', 'cancelled'],
      ['h3', 'cancelled'],
    ]);
    expect(relay.ran).toHaveLength(1);
  });

  it('fails an unknown host at once and still runs the others', async () => {
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store });

    const { execution, action, jobs } = await run({
      target: { hosts: ['h1', 'nope', 'h2'] },
      strategy: { maxErrors: 1 },
    });

    expect(execution.status).toBe('SUCCEEDED');
    expect(action).toMatchObject({ state: 'succeeded', reason: '1 of 3 hosts failed, within maxErrors (1)' });
    expect(jobs.map((j) => [j.hostId, j.state, j.error?.code])).toEqual([
      ['h1', 'succeeded', undefined],
      ['h2', 'succeeded', undefined],
      ['nope', 'failed', 'E_UNKNOWN_HOST'],
    ]);
  });

  it('fails an action whose target matches nothing, with the reason on the record', async () => {
    const { execution, action } = await run({ target: { tags: { group: 'nobody' } } });

    expect(execution.status).toBe('FAILED');
    expect(action).toMatchObject({
      state: 'failed',
      reason: 'the target matches no host (tags group=nobody)',
    });
  });

  it('fails a malformed execution input at once: a ValidationError is never retried', async () => {
    const started = await stack.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.stateMachineArn,
        input: JSON.stringify({ actionId: 42 }),
      }),
    );
    const execution = await waitForEnd(stack, started.executionArn as string, 5_000);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(execution.cause).toContain('gsm-record-action: malformed event: actionId');
    const { events = [] } = await stack.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: started.executionArn, maxResults: 1000 }),
    );
    // One attempt each: PlanTargets is caught into RecordResults, which fails the execution.
    expect(events.filter((event) => event.type === 'TaskFailed')).toHaveLength(2);
    const seconds = ((execution.stopDate?.getTime() ?? 0) - (execution.startDate?.getTime() ?? 0)) / 1000;
    expect(seconds).toBeLessThan(2);
  });

  it('hands a silent relay’s shard to the next poll, which finishes it once', async () => {
    let crashes = 0;
    relay = startFakeRelay({
      sfn: stack.sfn,
      activityArn: stack.activityArn,
      store: db.store,
      decide: () => (crashes++ === 0 ? 'crash' : { state: 'succeeded' }),
    });

    const { execution, action } = await run({ strategy: { maxConcurrency: 1 } });

    expect(execution.status).toBe('SUCCEEDED');
    expect(action.counters).toMatchObject({ total: 3, succeeded: 3 });
  });
});
