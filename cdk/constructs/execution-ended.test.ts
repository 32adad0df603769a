import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { actionsOf, baseResources, statementsOfRole, testStack } from '../test-support.js';
import { ExecutionEnded } from './execution-ended.js';

const build = () => {
  const stack = testStack();
  const { data, packages } = baseResources(stack);
  const machine = (id: string) =>
    new sfn.StateMachine(stack, id, {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Nothing`)),
    });
  const release = machine('ReleaseMachine');
  const action = machine('ActionMachine');
  const ended = new ExecutionEnded(stack, 'Ended', { data, packages, stateMachines: [release, action] });
  return { stack, release, action, ended, template: Template.fromStack(stack) };
};

describe('ExecutionEnded', () => {
  it('sends the unfinished ends of the release and action executions, and only those, to its function', () => {
    // Act
    const { stack, release, action, ended, template } = build();

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [stack.resolve(release.stateMachineArn), stack.resolve(action.stateMachineArn)],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: stack.resolve(ended.handler.function.functionArn),
          DeadLetterConfig: { Arn: stack.resolve(ended.deadLetters.queueArn) },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 8 }),
        }),
      ],
    });
  });

  it('runs functions/execution-ended/handler.ts with the table, and may start no execution', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description:
        'gsm execution-ended (settles a release, action or staging whose execution ended unfinished)',
      Environment: { Variables: Match.objectLike({ GSM_TABLE: Match.anyValue() }) },
    });
    const actions = statementsOfRole(template, 'EndedHandlerRole').flatMap(actionsOf);
    expect(actions).toContain('dynamodb:UpdateItem');
    expect(actions).toContain('dynamodb:DeleteItem');
    expect(actions.filter((a) => a.startsWith('states:') || a.startsWith('s3:'))).toEqual([]);
  });
});
