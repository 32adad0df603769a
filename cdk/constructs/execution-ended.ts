import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  EXECUTION_STATUS_CHANGE,
  STATES_EVENT_SOURCE,
  UNFINISHED_EXECUTION_STATUSES,
} from '../../core/model/events.js';
import type { Data } from './data.js';
import { deadLetteredTarget } from './defaults.js';
import { serviceEnvironment } from './environment.js';
import { NodeFunction } from './node-function.js';
import type { PackagesBucket } from './packages-bucket.js';

export interface ExecutionEndedProps {
  readonly data: Data;
  readonly packages: PackagesBucket;
  /** The machines whose unfinished executions leave records to settle: release, action, intake. */
  readonly stateMachines: readonly sfn.IStateMachine[];
  readonly logLevel?: string;
  readonly entry?: string;
}

/**
 * Step Functions Execution Status Change (FAILED, TIMED_OUT, ABORTED) of the release, action
 * and intake machines → functions/execution-ended, which ends the record the execution left
 * unfinished and frees its hosts. Without it an execution stopped in the console holds its hosts
 * until someone edits the table. Events it cannot take after its retries wait in a queue.
 */
export class ExecutionEnded extends Construct {
  public readonly handler: NodeFunction;
  public readonly rule: events.Rule;
  public readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: ExecutionEndedProps) {
    super(scope, id);
    this.handler = new NodeFunction(this, 'Handler', {
      entry: props.entry ?? 'functions/execution-ended/handler.ts',
      description:
        'gsm execution-ended (settles a release, action or staging whose execution ended unfinished)',
      environment: serviceEnvironment({
        data: props.data,
        packages: props.packages,
        ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      }),
      timeout: Duration.seconds(60),
    });
    // Records and host locks only: it starts nothing and reads no package.
    props.data.grantReadWrite(this.handler.role);

    const { target, deadLetters } = deadLetteredTarget(
      this,
      'DeadLetters',
      this.handler.function,
      'execution-ended',
    );
    this.deadLetters = deadLetters;

    this.rule = new events.Rule(this, 'Unfinished', {
      description: 'gsm: a release, action or intake execution ended without finishing its workflow',
      eventPattern: {
        source: [STATES_EVENT_SOURCE],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: {
          status: [...UNFINISHED_EXECUTION_STATUSES],
          stateMachineArn: props.stateMachines.map((machine) => machine.stateMachineArn),
        },
      },
      targets: [target],
    });
  }
}
