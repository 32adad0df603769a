import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { actionsOf, baseResources, resourcesOf, statementsOfRole, testStack } from '../test-support.js';
import { Api, consoleCommandHooks } from './api.js';

const build = () => {
  const stack = testStack();
  const { data, packages } = baseResources(stack);
  const release = new sfn.StateMachine(stack, 'Release', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
  });
  const api = new Api(stack, 'Api', {
    data,
    packages,
    stateMachines: { release },
    throttle: { rateLimit: 50, burstLimit: 100 },
  });
  return { stack, data, packages, release, api, template: Template.fromStack(stack) };
};

describe('Api', () => {
  it('runs functions/api/lambda.ts on Node 22, arm64, as an ESM bundle', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
    });
    // The bundle itself is esbuild's (`npx cdk synth`); tests skip bundling to stay fast.
  });

  it('gives the handler the environment core/config.ts reads, and nothing the runtime owns', () => {
    // Act
    const { stack, data, packages, release, template } = build();

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          GSM_TABLE: stack.resolve(data.table.tableName),
          GSM_BUCKET: stack.resolve(packages.bucket.bucketName),
          GSM_LOG_LEVEL: 'info',
          GSM_STATE_MACHINE_RELEASE: stack.resolve(release.stateMachineArn),
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: 'gsm API (Hono app)' } }),
    );
    const variables = (fn as { Properties: { Environment: { Variables: Record<string, unknown> } } })
      .Properties.Environment.Variables;
    expect(Object.keys(variables)).not.toContain('AWS_REGION');
  });

  it('serves an HTTP API on a throttled, access-logged $default stage', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('may use the table, upload and remove packages, start the workflows it was given and read releases, and nothing more', () => {
    // Act
    const { template } = build();

    // Assess
    const actions = statementsOfRole(template, 'ApiHandlerRole').flatMap(actionsOf).sort();
    expect(actions).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:AbortMultipartUpload',
        's3:DeleteObject',
        's3:GetObject',
        's3:ListMultipartUploadParts',
        's3:PutObject',
        'states:DescribeStateMachine',
        'states:DescribeStateMachineForExecution',
        'states:GetExecutionHistory',
        'states:SendTaskFailure',
        'states:SendTaskSuccess',
        'states:StartExecution',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it('reads the release machine and the histories of its executions only', () => {
    // Act
    const { stack, release, template } = build();

    // Assess
    const statements = statementsOfRole(template, 'ApiHandlerRole');
    const reads = statements.filter((s) => actionsOf(s).includes('states:GetExecutionHistory'));
    expect(reads).toHaveLength(1);
    expect(actionsOf(reads[0]!)).toEqual([
      'states:DescribeStateMachineForExecution',
      'states:GetExecutionHistory',
    ]);
    const [executions] = resourcesOf(reads[0]!);
    expect(JSON.stringify(executions)).toContain(':execution:');
    expect(JSON.stringify(executions)).toContain(JSON.stringify(stack.resolve(release.stateMachineArn)));
    expect(JSON.stringify(executions)).toMatch(/:\*"\]\]\}$/);
    const describe = statements.filter((s) => actionsOf(s).includes('states:DescribeStateMachine'));
    expect(describe.map(resourcesOf)).toEqual([[stack.resolve(release.stateMachineArn)]]);
  });

  it('bundles the built console next to the handler, and refuses to bundle without it', () => {
    // Act
    const commands = consoleCommandHooks.afterBundling('/repo', '/asset');

    // Assess
    expect(commands).toEqual([
      expect.stringContaining('test -f "/repo/dist/console/index.html" ||'),
      'cp -R "/repo/dist/console" "/asset/console"',
    ]);
    expect(commands[0]).toContain('run npm run build');
  });

  it('reads the agent master secret by ARN at start, with read access to that secret only', () => {
    // Prepare
    const stack = testStack();
    const { data, packages } = baseResources(stack);
    const secret = new secretsmanager.Secret(stack, 'Master');

    // Act
    new Api(stack, 'Api', { data, packages, agentMasterSecret: secret });
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ GSM_AGENT_MASTER_SECRET_ARN: stack.resolve(secret.secretArn) }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: stack.resolve(secret.secretArn),
          }),
        ]),
      },
    });
  });
});
