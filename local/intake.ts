import { CreateStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { intakeDefinition } from '../workflows/intake.js';

/** The role the emulator is told about; it checks nothing, AWS would. */
const LOCAL_ROLE_ARN = 'arn:aws:iam::123456789012:role/gsm-local';

/** Creates the `gsm-intake` state machine the S3 trigger starts; returns its ARN. */
export const createIntakeStateMachine = async (sfn: SFNClient): Promise<string> => {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: 'gsm-intake',
      definition: JSON.stringify(intakeDefinition()),
      roleArn: LOCAL_ROLE_ARN,
    }),
  );
  return created.stateMachineArn ?? '';
};
