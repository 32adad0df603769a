import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

/**
 * Starts the action workflow's execution of an action. The execution is named by the action id:
 * a retry names the same execution, so at most one ever runs, and finding it already started is
 * success. Any other failure is the SDK's error, for the caller to explain.
 */
export const startActionExecution = async (
  sfn: SFNClient,
  stateMachineArn: string,
  actionId: string,
): Promise<void> => {
  try {
    await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: actionId, input: JSON.stringify({ actionId }) }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
};
