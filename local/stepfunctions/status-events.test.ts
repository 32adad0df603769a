import { SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import { ExecutionStatusChangeEvent } from '../../core/model/index.js';
import { type StepFunctionsServer, startStepFunctions } from './index.js';
import { createMachine, waitForEnd } from './test-support.js';

describe('local Step Functions: execution status change events', () => {
  let server: StepFunctionsServer;
  let client: SFNClient;
  const events: ExecutionStatusChangeEvent[] = [];
  beforeAll(async () => {
    server = await startStepFunctions({
      logger: createLogger('stepfunctions-test', { level: 'silent' }),
      onExecutionEnded: (event) => events.push(event),
    });
    client = new SFNClient({
      endpoint: server.endpoint,
      region: server.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  it('sends the EventBridge event of each execution that ends: stopped, failed, succeeded', async () => {
    const hold = await createMachine(
      client,
      { StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 30, End: true } } },
      'hold',
    );
    const fail = await createMachine(
      client,
      { StartAt: 'No', States: { No: { Type: 'Fail', Error: 'Bad', Cause: 'because' } } },
      'fail',
    );
    const pass = await createMachine(client, { StartAt: 'Ok', States: { Ok: { Type: 'Succeed' } } }, 'pass');

    const held = await client.send(
      new StartExecutionCommand({ stateMachineArn: hold, name: 'h1', input: '{"releaseId":"r1"}' }),
    );
    await client.send(
      new StopExecutionCommand({ executionArn: held.executionArn, error: 'Op', cause: 'by hand' }),
    );
    const failed = await client.send(new StartExecutionCommand({ stateMachineArn: fail, name: 'f1' }));
    await waitForEnd(client, failed.executionArn as string);
    const passed = await client.send(new StartExecutionCommand({ stateMachineArn: pass, name: 'p1' }));
    await waitForEnd(client, passed.executionArn as string);

    expect(events.map((e) => ExecutionStatusChangeEvent.parse(e).detail.status)).toEqual([
      'ABORTED',
      'FAILED',
      'SUCCEEDED',
    ]);
    expect(events[0]).toMatchObject({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      region: server.region,
      account: server.accountId,
      resources: [held.executionArn],
      detail: {
        executionArn: held.executionArn,
        stateMachineArn: hold,
        name: 'h1',
        input: '{"releaseId":"r1"}',
        error: 'Op',
        cause: 'by hand',
        stopDate: expect.any(Number),
      },
    });
    expect(events[1]?.detail).toMatchObject({ error: 'Bad', cause: 'because' });
  });

  it('sends none for the executions it aborts as it closes: nobody is left to act on them', async () => {
    const hold = await createMachine(
      client,
      { StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 30, End: true } } },
      'hold-2',
    );
    await client.send(new StartExecutionCommand({ stateMachineArn: hold, name: 'h2' }));
    const before = events.length;

    await server.close();

    expect(events).toHaveLength(before);
  });
});
