import { z } from 'zod';
import type { AwsConfig } from './aws.js';
import { ConfigError } from './errors.js';

/**
 * What every AWS-facing process (API, tasks, trigger, relay) needs to find its resources.
 * Read from the environment once, at start, and passed down. The endpoint variables are the
 * SDK's own names (AWS_ENDPOINT_URL_<SERVICE>), so the AWS CLI reads the same settings.
 */
const Env = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
  AWS_ENDPOINT_URL_S3: z.url().optional(),
  AWS_ENDPOINT_URL_SFN: z.url().optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  GSM_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).optional(),
  GSM_TABLE: z.string().min(3).default('gsm'),
  GSM_BUCKET: z.string().min(3).default('gsm-packages'),
  /** Agents' secrets derive from it (HMAC per host id): the API hands them out, the relay uses them. */
  GSM_AGENT_MASTER_SECRET: z.string().min(16, 'GSM_AGENT_MASTER_SECRET must be at least 16 bytes').optional(),
  /** In AWS: where the master secret lives (Secrets Manager); read once at start. */
  GSM_AGENT_MASTER_SECRET_ARN: z.string().startsWith('arn:').optional(),
  GSM_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface ServiceConfig {
  readonly aws: AwsConfig;
  readonly table: string;
  readonly bucket: string;
  readonly logLevel: string;
  readonly agentMasterSecret?: string;
  readonly agentMasterSecretArn?: string;
  /** State machine ARNs by workflow name, from GSM_STATE_MACHINE_<NAME>. */
  readonly stateMachines: Readonly<Record<string, string>>;
}

/** Whether Step Functions is an emulator here (`gsm dev` points AWS_ENDPOINT_URL_SFN at it). */
export const stepFunctionsEmulated = (env: NodeJS.ProcessEnv = process.env): boolean =>
  Boolean(env.AWS_ENDPOINT_URL_SFN);

export const serviceConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): ServiceConfig => {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`bad environment: ${detail}`);
  }
  const e = parsed.data;
  const stateMachines: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const match = /^GSM_STATE_MACHINE_([A-Z0-9_]+)$/.exec(name);
    if (match?.[1] && value) stateMachines[match[1].toLowerCase()] = value;
  }
  return {
    aws: {
      region: e.AWS_REGION,
      endpoints: {
        dynamodb: e.AWS_ENDPOINT_URL_DYNAMODB,
        s3: e.AWS_ENDPOINT_URL_S3,
        stepfunctions: e.AWS_ENDPOINT_URL_SFN,
      },
      credentials:
        e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY }
          : undefined,
      s3ForcePathStyle: e.GSM_S3_FORCE_PATH_STYLE === 'true',
    },
    table: e.GSM_TABLE,
    bucket: e.GSM_BUCKET,
    logLevel: e.GSM_LOG_LEVEL,
    agentMasterSecret: e.GSM_AGENT_MASTER_SECRET,
    agentMasterSecretArn: e.GSM_AGENT_MASTER_SECRET_ARN,
    stateMachines,
  };
};
