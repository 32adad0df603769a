import { CreateActivityCommand, CreateStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { RELAY_ACTIVITY_NAME } from '../core/model/index.js';
import { intakeDefinition } from '../workflows/intake.js';

/** The role the emulator is told about; it checks nothing, AWS would. */
const LOCAL_ROLE_ARN = 'arn:aws:iam::123456789012:role/gsm-local';

/**
 * Creates the `gsm-intake` state machine the S3 trigger starts; returns its ARN. Staging runs
 * through the relay activity (CreateActivity is idempotent by name, so whoever comes first makes it).
 */
export const createIntakeStateMachine = async (sfn: SFNClient): Promise<string> => {
  const relay = await sfn.send(new CreateActivityCommand({ name: RELAY_ACTIVITY_NAME }));
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: 'gsm-intake',
      definition: JSON.stringify(intakeDefinition({ relayActivityArn: relay.activityArn ?? '' })),
      roleArn: LOCAL_ROLE_ARN,
    }),
  );
  return created.stateMachineArn ?? '';
};
