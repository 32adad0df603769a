import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface SecretsProps {
  readonly secretName?: string;
}

/**
 * The agents' master secret: each host's secret is derived from it (protocol/auth.ts), so
 * only the relay reads it, and a new one is generated rather than typed in.
 */
export class Secrets extends Construct {
  public readonly agentMasterSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: SecretsProps = {}) {
    super(scope, id);
    this.agentMasterSecret = new secretsmanager.Secret(this, 'AgentMasterSecret', {
      ...(props.secretName ? { secretName: props.secretName } : {}),
      description: 'gsm: master secret the per-host agent secrets are derived from',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.agentMasterSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the master secret re-keys every agent; it is rotated by an operator with the ' +
        'two-secret overlap the protocol supports (current + previous), not by a Lambda on a timer.',
    });
  }

  public grantReadAgentSecret(grantee: iam.IGrantable): iam.Grant {
    return this.agentMasterSecret.grantRead(grantee);
  }
}
