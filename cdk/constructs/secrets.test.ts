import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { actionsOf, statementsOfRole, testStack } from '../test-support.js';
import { Secrets } from './secrets.js';

describe('Secrets', () => {
  it('generates the agent master secret and lets a grantee read that one secret', () => {
    // Prepare
    const stack = testStack();
    const secrets = new Secrets(stack, 'Secrets');
    const relay = new iam.Role(stack, 'Relay', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });

    // Act
    secrets.grantReadAgentSecret(relay);
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    const statements = statementsOfRole(template, 'Relay');
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(statements.map((statement) => statement.Resource)).toEqual([
      stack.resolve(secrets.agentMasterSecret.secretArn),
    ]);
  });
});
