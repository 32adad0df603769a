import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Relay } from './relay.js';

export interface AlarmsProps {
  /** Workflow name → state machine: one failed-executions alarm each. */
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  readonly relay: Relay;
}

/**
 * What pages an operator: a workflow execution that failed, timed out or was aborted, and a
 * relay that is not there to do the work (too few tasks running, or activity tasks nobody
 * picked up or heartbeated — the second also covers relays running outside AWS).
 */
export class Alarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    // CloudWatch can publish to an encrypted topic only with a customer key that lets it.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'gsm alarm topic',
      enableKeyRotation: true,
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'gsm alarms',
      masterKey: key,
      enforceSSL: true,
    });
    const notify = new actions.SnsAction(this.topic);

    const add = (alarmId: string, alarm: cloudwatch.AlarmProps): void => {
      const created = new cloudwatch.Alarm(this, alarmId, alarm);
      created.addAlarmAction(notify);
      this.alarms.push(created);
    };

    for (const [name, machine] of Object.entries(props.stateMachines)) {
      const failures = new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: machine.metricFailed({ statistic: 'Sum' }),
          timedOut: machine.metricTimedOut({ statistic: 'Sum' }),
          aborted: machine.metricAborted({ statistic: 'Sum' }),
        },
        period: Duration.minutes(5),
        label: `${name} executions failed, timed out or aborted`,
      });
      add(`${pascal(name)}Failed`, {
        alarmDescription: `gsm: a ${name} execution failed, timed out or was aborted`,
        metric: failures,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const service = props.relay.service;
    add('RelayTasksMissing', {
      alarmDescription: 'gsm: fewer relay tasks running than desired',
      metric: new cloudwatch.MathExpression({
        expression: 'desired - running',
        usingMetrics: {
          desired: containerInsights('DesiredTaskCount', service),
          running: containerInsights('RunningTaskCount', service),
        },
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const activity = props.relay.activity;
    add('RelayActivityStalled', {
      alarmDescription: 'gsm: relay activity tasks timed out (no relay polled, or one stopped heartbeating)',
      metric: new cloudwatch.MathExpression({
        expression: 'timedOut + heartbeatTimedOut',
        usingMetrics: {
          timedOut: activity.metricTimedOut({ statistic: 'Sum' }),
          heartbeatTimedOut: activity.metricHeartbeatTimedOut({ statistic: 'Sum' }),
        },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

const pascal = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');

const containerInsights = (
  metricName: string,
  service: { serviceName: string; cluster: { clusterName: string } },
) =>
  new cloudwatch.Metric({
    namespace: 'ECS/ContainerInsights',
    metricName,
    dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
    statistic: 'Average',
    period: Duration.minutes(1),
  });
