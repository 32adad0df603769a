import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { logGroup } from './defaults.js';

/** The repository root: entries are given relative to it, and esbuild resolves from it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface NodeFunctionProps {
  /** Handler module, relative to the repository root (e.g. `functions/api/lambda.ts`). */
  readonly entry: string;
  readonly description: string;
  readonly environment?: Readonly<Record<string, string>>;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  /** Shell steps around esbuild, e.g. files the bundle reads at run time (the API's console). */
  readonly commandHooks?: nodejs.ICommandHooks;
}

/**
 * A gsm Lambda: Node 22 on arm64, bundled by esbuild as ESM, its own log group with
 * retention, and a role that may write only to that log group (no AWSLambdaBasicExecutionRole,
 * whose logs:* on every group cdk-nag rightly flags).
 */
export class NodeFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    this.logGroup = logGroup(this, 'Logs');
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        platform: 'node',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        // pino and a few SDK dependencies still call require(); ESM has none without this.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        // The runtime ships SDK v3, but gsm pins its own versions: bundle them for one code path.
        externalModules: [],
        ...(props.commandHooks ? { commandHooks: props.commandHooks } : {}),
      },
    });
    // X-Ray takes no resource-level permissions; tracing is on, so its role holds these on '*'.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Lambda active tracing).',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'gsm pins Node.js 22 (its tested runtime, issue 8); moving to a newer runtime is a deliberate change.',
    });
  }
}
