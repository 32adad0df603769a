import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
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
