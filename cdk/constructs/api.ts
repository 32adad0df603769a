import { Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
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

/** What the API does to workflows so far: start them. Reading and stopping executions come with releases. */
/**
 * Start workflows, and answer a release's approval gate (approve = SendTaskSuccess on the token
 * the gate stored, reject/cancel = SendTaskFailure); scoped to gsm's own state machines.
 */
export const API_EXECUTION_ACTIONS = [
  'states:StartExecution',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
] as const;

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

  public get url(): string {
    return this.stage.url;
  }
}
