import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { RELAY_ACTIVITY_NAME } from '../../core/model/index.js';
import { AUTO_RELEASE_FUNCTION } from '../../workflows/intake.js';
import { Alarms } from '../constructs/alarms.js';
import { Api } from '../constructs/api.js';
import { Data } from '../constructs/data.js';
import { serviceEnvironment } from '../constructs/environment.js';
import { ExecutionEnded } from '../constructs/execution-ended.js';
import { IntakeTrigger } from '../constructs/intake-trigger.js';
import { NodeFunction } from '../constructs/node-function.js';
import { PackagesBucket } from '../constructs/packages-bucket.js';
import { Relay } from '../constructs/relay.js';
import { Secrets } from '../constructs/secrets.js';
import { Workflow } from '../constructs/workflow.js';
import { WORKFLOWS, type WorkflowSpec } from '../workflows.js';

export interface GsmStackProps extends StackProps {
  /** Which workflows to deploy; the list in cdk/workflows.ts by default. */
  readonly workflows?: readonly WorkflowSpec[];
  /** A prebuilt relay image URI; without one the relay image is built from this repository. */
  readonly relayImage?: string;
  readonly relayCount?: number;
  readonly logLevel?: string;
  /** Entry overrides, for tests that stand in a fixture handler. */
  readonly entries?: { readonly api?: string; readonly trigger?: string };
}

/** The whole of gsm in one region: data, packages, API, workflows, intake, relay, alarms. */
export class GsmStack extends Stack {
  public readonly data: Data;
  public readonly packages: PackagesBucket;
  public readonly secrets: Secrets;
  public readonly relay: Relay;
  public readonly taskFunctions: Readonly<Record<string, NodeFunction>>;
  public readonly workflows: Readonly<Record<string, Workflow>>;
  public readonly api: Api;
  public readonly intake: IntakeTrigger;
  /** Absent when the stack deploys neither the release nor the action workflow. */
  public readonly executionEnded?: ExecutionEnded;
  public readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: GsmStackProps = {}) {
    super(scope, id, { description: 'gsm: game server manager', ...props });
    const logLevel = props.logLevel ?? 'info';
    this.data = new Data(this, 'Data');
    this.packages = new PackagesBucket(this, 'Packages');
    this.secrets = new Secrets(this, 'Secrets');
    this.relay = new Relay(this, 'Relay', {
      data: this.data,
      packages: this.packages,
      secrets: this.secrets,
      logLevel,
      ...(props.relayImage ? { image: props.relayImage } : {}),
      ...(props.relayCount !== undefined ? { desiredCount: props.relayCount } : {}),
    });

    const specs = props.workflows ?? WORKFLOWS;
    const taskFunctions: Record<string, NodeFunction> = {};
    for (const spec of specs) {
      for (const [name, entry] of Object.entries(spec.tasks)) {
        taskFunctions[name] ??= this.taskFunction(name, entry, logLevel);
      }
    }
    this.taskFunctions = taskFunctions;

    const workflows: Record<string, Workflow> = {};
    for (const spec of specs) {
      const functions: Record<string, lambda.IFunction> = {};
      for (const name of Object.keys(spec.tasks)) functions[name] = taskFunctions[name]!.function;
      workflows[spec.name] = new Workflow(this, `Workflow-${spec.name}`, {
        definition: spec.definition(),
        functions,
        // The definitions name the activity RELAY_ACTIVITY_NAME (local dev's); here it becomes
        // this stack's own `<stack name>-relay`.
        activities: { [RELAY_ACTIVITY_NAME]: this.relay.activity },
      });
    }
    this.workflows = workflows;
    const stateMachines: Record<string, sfn.IStateMachine> = {};
    for (const [name, workflow] of Object.entries(workflows)) stateMachines[name] = workflow.stateMachine;
    // Auto-release (the intake's last task) starts releases: that machine only.
    const autoRelease = taskFunctions[AUTO_RELEASE_FUNCTION];
    if (autoRelease && stateMachines.release) {
      autoRelease.function.addEnvironment('GSM_STATE_MACHINE_RELEASE', stateMachines.release.stateMachineArn);
      stateMachines.release.grantStartExecution(autoRelease.role);
    }

    this.api = new Api(this, 'Api', {
      agentMasterSecret: this.secrets.agentMasterSecret,
      data: this.data,
      packages: this.packages,
      stateMachines,
      logLevel,
      ...(props.entries?.api ? { entry: props.entries.api } : {}),
    });
    this.intake = new IntakeTrigger(this, 'Intake', {
      data: this.data,
      packages: this.packages,
      logLevel,
      ...(stateMachines.intake ? { intake: stateMachines.intake } : {}),
      ...(props.entries?.trigger ? { entry: props.entries.trigger } : {}),
    });
    // Their executions hold records (and, for releases, host locks) that only their last task settles.
    const settled = [stateMachines.release, stateMachines.action, stateMachines.intake].filter(
      (m) => m !== undefined,
    );
    if (settled.length > 0) {
      this.executionEnded = new ExecutionEnded(this, 'ExecutionEnded', {
        data: this.data,
        packages: this.packages,
        stateMachines: settled,
        logLevel,
      });
    }
    this.alarms = new Alarms(this, 'Alarms', { stateMachines, relay: this.relay });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'GSM_ENDPOINT for the gsm CLI' });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.packages.bucket.bucketName });
    new CfnOutput(this, 'RelayActivityArn', { value: this.relay.activity.activityArn });
    new CfnOutput(this, 'OnPremisesRelayRoleArn', { value: this.relay.onPremisesRole.roleArn });
    new CfnOutput(this, 'AgentMasterSecretArn', { value: this.secrets.agentMasterSecret.secretArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }

  /** One Lambda per workflow task: the table and the stored packages, as the tasks' store needs. */
  private taskFunction(name: string, entry: string, logLevel: string): NodeFunction {
    const fn = new NodeFunction(this, `Task-${name}`, {
      entry,
      description: `gsm workflow task ${name}`,
      environment: serviceEnvironment({ data: this.data, packages: this.packages, logLevel }),
      // Hashing a multi-GB package streams it through SHA-256: give the big ones time and CPU.
      memorySize: 1769,
      timeout: Duration.minutes(15),
    });
    this.data.grantReadWrite(fn.role);
    this.packages.grantReadPackages(fn.role);
    return fn;
  }
}
