import {
  ExecutionAlreadyExists,
  type SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { startActionExecution } from './action-execution.js';

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:gsm-action';

/** An SFN client that answers every command with `answer` and records what it was sent (error handling only). */
const clientAnswering = (answer: () => Promise<unknown>) => {
  const sent: unknown[] = [];
  const sfn = {
    send: (command: unknown) => {
      sent.push(command);
      return answer();
    },
  } as unknown as SFNClient;
  return { sfn, sent };
};

describe('startActionExecution', () => {
  it('starts one execution named by the action id, with the id as its input', async () => {
    const { sfn, sent } = clientAnswering(async () => ({ executionArn: `${ARN}:act-1` }));

    await startActionExecution(sfn, ARN, 'act-1');

    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(StartExecutionCommand);
    expect((sent[0] as StartExecutionCommand).input).toEqual({
      stateMachineArn: ARN,
      name: 'act-1',
      input: JSON.stringify({ actionId: 'act-1' }),
    });
  });

  it('takes an execution already started for the action as success', async () => {
    const { sfn } = clientAnswering(() =>
      Promise.reject(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} })),
    );

    await expect(startActionExecution(sfn, ARN, 'act-1')).resolves.toBeUndefined();
  });

  it('passes any other failure on unchanged', async () => {
    const failure = new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', $metadata: {} });
    const { sfn } = clientAnswering(() => Promise.reject(failure));

    await expect(startActionExecution(sfn, ARN, 'act-1')).rejects.toBe(failure);
  });
});
