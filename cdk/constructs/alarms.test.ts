import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, it } from 'vitest';
import { baseResources, testStack } from '../test-support.js';
import { Alarms } from './alarms.js';
import { Relay } from './relay.js';

const build = () => {
  const stack = testStack();
  const resources = baseResources(stack);
  const relay = new Relay(stack, 'Relay', resources);
  const machine = (id: string) =>
    new sfn.StateMachine(stack, id, {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Pass`)),
    });
  const alarms = new Alarms(stack, 'Alarms', {
    stateMachines: { action: machine('Action'), release: machine('Release') },
    relay,
  });
  return { stack, alarms, template: Template.fromStack(stack) };
};

describe('Alarms', () => {
  it('raises one alarm per workflow on failed, timed-out or aborted executions', () => {
    // Act
    const { template } = build();

    // Assess
    for (const name of ['action', 'release']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(`a ${name} execution failed`),
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'failed + timedOut + aborted' }),
          Match.objectLike({
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsFailed' }) }),
          }),
        ]),
      });
    }
  });

  it('raises relay alarms on missing tasks and on activity tasks nobody completed', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'desired - running' })]),
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'timedOut + heartbeatTimedOut' })]),
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
  });

  it('notifies an encrypted, SSL-only SNS topic from every alarm', () => {
    // Act
    const { stack, alarms, template } = build();

    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [stack.resolve(alarms.topic.topicArn)],
    });
  });
});
