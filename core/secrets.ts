import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsConfig } from './aws.js';
import { ConfigError } from './errors.js';

/**
 * The agents' master secret, from the environment (local, on-premises relays) or from Secrets
 * Manager by ARN (in AWS, so it never sits in a Lambda's configuration). Read once per process.
 */
export const loadAgentMasterSecret = async (config: {
  readonly agentMasterSecret?: string;
  readonly agentMasterSecretArn?: string;
  readonly aws: AwsConfig;
}): Promise<string | undefined> => {
  if (config.agentMasterSecret) return config.agentMasterSecret;
  if (!config.agentMasterSecretArn) return undefined;
  const client = new SecretsManagerClient({ region: config.aws.region });
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: config.agentMasterSecretArn }));
    if (!out.SecretString) throw new ConfigError('the agent master secret has no string value');
    return out.SecretString;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read the agent master secret ${config.agentMasterSecretArn}`, {
      cause: error,
    });
  } finally {
    client.destroy();
  }
};
