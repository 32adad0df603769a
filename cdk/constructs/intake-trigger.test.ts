import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { INCOMING_PREFIX, UPLOAD_PREFIX } from '../../core/model/s3-keys.js';
import { actionsOf, baseResources, resourcesOf, statementsOfRole, testStack } from '../test-support.js';
import { IntakeTrigger } from './intake-trigger.js';

const build = (withIntake: boolean) => {
  const stack = testStack();
  const { data, packages } = baseResources(stack);
  const intake = withIntake
    ? new sfn.StateMachine(stack, 'IntakeMachine', {
        definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
      })
    : undefined;
  const trigger = new IntakeTrigger(stack, 'Intake', { data, packages, ...(intake ? { intake } : {}) });
  return { stack, packages, intake, trigger, template: Template.fromStack(stack) };
};

describe('IntakeTrigger', () => {
  it('sends S3 Object Created events from the packages bucket, under incoming/ or uploads/, to the trigger', () => {
    // Act
    const { stack, packages, trigger, template } = build(true);

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [stack.resolve(packages.bucket.bucketName)] },
          object: { key: [{ prefix: INCOMING_PREFIX }, { prefix: UPLOAD_PREFIX }] },
        },
      },
      Targets: [
        Match.objectLike({
          Arn: stack.resolve(trigger.handler.function.functionArn),
          DeadLetterConfig: { Arn: stack.resolve(trigger.deadLetters.queueArn) },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 8 }),
        }),
      ],
    });
  });

  it('runs functions/trigger/handler.ts with the intake state machine in GSM_STATE_MACHINE_INTAKE', () => {
    // Act
    const { stack, intake, template } = build(true);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({ GSM_STATE_MACHINE_INTAKE: stack.resolve(intake?.stateMachineArn) }),
      },
    });
  });

  it('may start the intake state machine and no other, and touches neither table nor objects', () => {
    // Act
    const { stack, intake, template } = build(true);

    // Assess
    const statements = statementsOfRole(template, 'IntakeHandlerRole');
    const start = statements.filter((statement) => actionsOf(statement).includes('states:StartExecution'));
    expect(start.map(resourcesOf)).toEqual([[stack.resolve(intake?.stateMachineArn)]]);
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((action) => action.startsWith('dynamodb:') || action.startsWith('s3:'))).toEqual(
      [],
    );
  });

  it('grants no StartExecution while there is no intake workflow yet', () => {
    // Act
    const { template } = build(false);

    // Assess
    const actions = statementsOfRole(template, 'IntakeHandlerRole').flatMap(actionsOf);
    expect(actions).not.toContain('states:StartExecution');
  });
});
