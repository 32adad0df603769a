import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AUTO_RELEASE_FUNCTION } from '../../workflows/intake.js';
import { testApp } from '../test-support.js';
import { GsmStack } from './gsm-stack.js';

describe('the auto-release task function', () => {
  it('knows the release machine and may start executions of it, and of no other machine', () => {
    // Arrange
    const stack = new GsmStack(testApp({ schemaValidation: false }), 'Gsm');
    const template = Template.fromStack(stack);
    const releaseArn = stack.resolve(stack.workflows.release?.stateMachine.stateMachineArn);
    const fn = stack.taskFunctions[AUTO_RELEASE_FUNCTION];

    // Assess
    expect(fn).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: `gsm workflow task ${AUTO_RELEASE_FUNCTION}`,
      Environment: { Variables: Match.objectLike({ GSM_STATE_MACHINE_RELEASE: releaseArn }) },
    });
    const roleRef = stack.resolve((fn as NonNullable<typeof fn>).role.roleName);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([roleRef]) },
    });
    const starts = Object.values(policies).flatMap((policy) =>
      (
        policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]
      ).filter((statement) => [statement.Action].flat().includes('states:StartExecution')),
    );
    expect(starts.map((statement) => statement.Resource)).toEqual([releaseArn]);
  });
});
