import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { INCOMING_PREFIX, UPLOAD_PREFIX } from '../../core/model/s3-keys.js';
import type { Data } from './data.js';
import { deadLetteredTarget } from './defaults.js';
import { serviceEnvironment } from './environment.js';
import { NodeFunction } from './node-function.js';
import type { PackagesBucket } from './packages-bucket.js';

export interface IntakeTriggerProps {
  readonly data: Data;
  readonly packages: PackagesBucket;
  /** The intake workflow, once it exists: the trigger may start that one machine and no other. */
  readonly intake?: sfn.IStateMachine;
  readonly logLevel?: string;
  readonly entry?: string;
}

/**
 * S3 Object Created (through EventBridge) under `incoming/` or `uploads/` → functions/trigger,
 * which starts intake. Events the function cannot take after its retries land in a queue
 * instead of vanishing: a lost event is a package stuck in `verifying`.
 */
export class IntakeTrigger extends Construct {
  public readonly handler: NodeFunction;
  public readonly rule: events.Rule;
  public readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: IntakeTriggerProps) {
    super(scope, id);
    this.handler = new NodeFunction(this, 'Handler', {
      entry: props.entry ?? 'functions/trigger/handler.ts',
      description: 'gsm intake trigger (S3 Object Created to the intake workflow)',
      environment: serviceEnvironment({
        data: props.data,
        packages: props.packages,
        ...(props.intake ? { stateMachines: { intake: props.intake } } : {}),
        ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      }),
      timeout: Duration.seconds(30),
    });
    // The trigger only starts executions (functions/trigger/trigger.ts): no table, no objects.
    if (props.intake) {
      this.handler.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [props.intake.stateMachineArn],
        }),
      );
    }

    const { target, deadLetters } = deadLetteredTarget(this, 'DeadLetters', this.handler.function, 'intake');
    this.deadLetters = deadLetters;

    this.rule = new events.Rule(this, 'ObjectCreated', {
      description: 'gsm: a package object arrived under incoming/ or uploads/',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.packages.bucket.bucketName] },
          object: {
            key: events.Match.anyOf(events.Match.prefix(INCOMING_PREFIX), events.Match.prefix(UPLOAD_PREFIX)),
          },
        },
      },
      targets: [target],
    });
  }
}
