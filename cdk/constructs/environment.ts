import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Data } from './data.js';
import type { PackagesBucket } from './packages-bucket.js';

export interface ServiceEnvironmentProps {
  readonly data: Data;
  readonly packages: PackagesBucket;
  /** Workflow name → state machine; each becomes GSM_STATE_MACHINE_<NAME>. */
  readonly stateMachines?: Readonly<Record<string, sfn.IStateMachine>>;
  readonly logLevel?: string;
}

/** `intake` → `GSM_STATE_MACHINE_INTAKE`, the name core/config.ts looks for. */
export const stateMachineVariable = (workflow: string): string =>
  `GSM_STATE_MACHINE_${workflow.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/**
 * The variables core/config.ts reads, so a Lambda or the relay finds its resources exactly as
 * a local process does. AWS_REGION is left to the runtime (Lambda reserves it); no endpoint
 * variables, so the SDK talks to the real services.
 */
export const serviceEnvironment = (props: ServiceEnvironmentProps): Record<string, string> => {
  const env: Record<string, string> = {
    GSM_TABLE: props.data.table.tableName,
    GSM_BUCKET: props.packages.bucket.bucketName,
    GSM_LOG_LEVEL: props.logLevel ?? 'info',
  };
  for (const [name, machine] of Object.entries(props.stateMachines ?? {})) {
    env[stateMachineVariable(name)] = machine.stateMachineArn;
  }
  return env;
};
