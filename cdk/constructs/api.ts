import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Data } from './data.js';
import { logGroup } from './defaults.js';
import { serviceEnvironment } from './environment.js';
import { NodeFunction } from './node-function.js';
import type { PackagesBucket } from './packages-bucket.js';

export interface ApiProps {
  readonly data: Data;
  readonly packages: PackagesBucket;
  /** Workflow name → state machine; each becomes GSM_STATE_MACHINE_<NAME> (core/config.ts). */
  readonly stateMachines?: Readonly<Record<string, sfn.IStateMachine>>;
  /** The agents' master secret: the API derives each new host's secret from it. */
  readonly agentMasterSecret?: secretsmanager.ISecret;
  readonly logLevel?: string;
  /** Steady requests per second across the API, and the burst above it. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  readonly entry?: string;
}

/**
 * Start workflows, and answer a release's approval gate (approve = SendTaskSuccess on the token
 * the gate stored, reject/cancel = SendTaskFailure); scoped to gsm's own state machines.
 */
export const API_EXECUTION_ACTIONS = [
  'states:StartExecution',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
] as const;

/** GET /v1/releases/:id/workflow: the machine an execution ran, and the execution's history. */
export const API_RELEASE_READ_ACTIONS = [
  'states:DescribeStateMachineForExecution',
  'states:GetExecutionHistory',
] as const;

/**
 * The console's files (dist/console, built by `npm run build`) go into the API's bundle next to
 * index.mjs, where functions/api/routes/console.ts looks first. A missing build fails the bundle
 * with the step to run, instead of deploying an API whose /console answers 503.
 */
export const consoleCommandHooks: nodejs.ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir, outputDir) => [
    `test -f "${inputDir}/dist/console/index.html" || { echo "dist/console is missing: run npm run build before cdk synth or deploy" >&2; exit 1; }`,
    `cp -R "${inputDir}/dist/console" "${outputDir}/console"`,
  ],
};

/**
 * The HTTP API: API Gateway (HTTP API, `$default` stage, throttled, access-logged) in front
 * of the same Hono app `gsm dev` serves, through functions/api/lambda.ts.
 */
export class Api extends Construct {
  public readonly handler: NodeFunction;
  public readonly httpApi: apigw.HttpApi;
  public readonly stage: apigw.HttpStage;
  public readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.handler = new NodeFunction(this, 'Handler', {
      entry: props.entry ?? 'functions/api/lambda.ts',
      description: 'gsm API (Hono app)',
      environment: {
        ...serviceEnvironment(props),
        ...(props.agentMasterSecret
          ? { GSM_AGENT_MASTER_SECRET_ARN: props.agentMasterSecret.secretArn }
          : {}),
      },
      memorySize: 1024,
      timeout: Duration.seconds(29),
      commandHooks: consoleCommandHooks,
    });
    props.data.grantReadWrite(this.handler.role);
    props.packages.grantUpload(this.handler.role);
    props.packages.grantRemovePackages(this.handler.role);
    props.agentMasterSecret?.grantRead(this.handler.role);
    const machines = Object.values(props.stateMachines ?? {});
    if (machines.length > 0) {
      this.handler.role.addToPolicy(
        new iam.PolicyStatement({
          actions: [...API_EXECUTION_ACTIONS],
          resources: machines.map((machine) => machine.stateMachineArn),
        }),
      );
    }

    const release = props.stateMachines?.release;
    if (release) this.grantReleaseRead(release);

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'gsm API',
      createDefaultStage: false,
      defaultIntegration: new integrations.HttpLambdaIntegration('Hono', this.handler.function),
    });
    this.accessLogs = logGroup(this, 'AccessLogs');
    const throttle = props.throttle ?? { rateLimit: 200, burstLimit: 400 };
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            latency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The Hono app authenticates every route but /v1/health with hashed bearer API keys and roles ' +
        '(functions/api/middleware/auth.ts), the same in AWS as locally.',
    });
  }

  /** The release machine's definition and its executions' histories: that machine's executions only. */
  private grantReleaseRead(machine: sfn.IStateMachine): void {
    const stack = Stack.of(this);
    const machineName = stack.splitArn(machine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.handler.role.addToPolicy(
      new iam.PolicyStatement({ actions: [...API_RELEASE_READ_ACTIONS], resources: [executions] }),
    );
    // cdk-nag names the finding by the rendered ARN, the machine's name token included.
    const rendered = JSON.stringify(stack.resolve(machineName));
    Validations.of(this.handler.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${rendered}:*]`,
      reason:
        'Execution ARNs end in the execution name (the release id), unknown at deploy time: the wildcard ' +
        'covers the executions of the release state machine only, for two read-only calls.',
    });
    // A release whose execution never started shows its machine's definition.
    this.handler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeStateMachine'],
        resources: [machine.stateMachineArn],
      }),
    );
  }

  public get url(): string {
    return this.stage.url;
  }
}
