import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { actionsOf, baseResources, statementsOfRole, testStack } from '../test-support.js';
import { Api } from './api.js';

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

  it('may use the table, upload and remove packages and start the workflows it was given, and nothing more', () => {
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
        'states:SendTaskFailure',
        'states:SendTaskSuccess',
        'states:StartExecution',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
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
