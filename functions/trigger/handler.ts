import { createSfnClient } from '../../core/aws.js';
import { serviceConfigFromEnv } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { UPLOAD_PREFIX } from '../../core/model/s3-keys.js';
import { handleObjectCreated, type TriggerDeps, type TriggerResult } from './trigger.js';

/**
 * Lambda entry point for the EventBridge rule on the packages bucket (locally, the S3
 * emulator's events). The intake state machine comes from GSM_STATE_MACHINE_INTAKE.
 */
const config = serviceConfigFromEnv();

const deps: TriggerDeps = {
  sfn: createSfnClient(config.aws),
  intakeStateMachineArn: config.stateMachines.intake,
  uploadPrefix: UPLOAD_PREFIX,
  logger: createLogger('gsm-trigger', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<TriggerResult> => handleObjectCreated(event, deps);
