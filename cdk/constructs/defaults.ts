import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * Settings every construct shares, as data. Logs are kept long enough to investigate a
 * release that went wrong weeks ago, short enough not to pile up cost.
 */
export const LOG_RETENTION = logs.RetentionDays.THREE_MONTHS;

/** The one way a log group is made here, so none is ever left at "never expire". */
export const logGroup = (scope: Construct, id: string, logGroupName?: string): logs.LogGroup =>
  new logs.LogGroup(scope, id, {
    retention: LOG_RETENTION,
    removalPolicy: RemovalPolicy.DESTROY,
    ...(logGroupName ? { logGroupName } : {}),
  });

/**
 * An EventBridge target for `fn` whose undeliverable events wait 14 days in `<id>` (an
 * encrypted queue) instead of vanishing: each of gsm's rules carries a record's next step.
 */
export const deadLetteredTarget = (
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  ruleName: string,
): { readonly target: targets.LambdaFunction; readonly deadLetters: sqs.Queue } => {
  const deadLetters = new sqs.Queue(scope, id, {
    enforceSSL: true,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(deadLetters).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is the dead-letter queue of the ${ruleName} rule target (EventBridge DLQs are not RedrivePolicy-linked).`,
  });
  const target = new targets.LambdaFunction(fn, {
    deadLetterQueue: deadLetters,
    retryAttempts: 8,
    maxEventAge: Duration.hours(6),
  });
  return { target, deadLetters };
};
