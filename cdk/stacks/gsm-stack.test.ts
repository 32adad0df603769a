import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DEFINITION, EXAMPLE_TASKS } from '../constructs/workflow.fixture.js';
import { testApp } from '../test-support.js';
import { WORKFLOWS } from '../workflows.js';
import { GsmStack } from './gsm-stack.js';

const build = (options: { withWorkflow?: boolean; schemaValidation?: boolean } = {}) => {
  const app = testApp({ schemaValidation: options.schemaValidation ?? false });
  const stack = new GsmStack(app, 'Gsm', {
    ...(options.withWorkflow
      ? { workflows: [{ name: 'example', definition: () => EXAMPLE_DEFINITION, tasks: EXAMPLE_TASKS }] }
      : {}),
  });
  return { app, stack, template: Template.fromStack(stack) };
};

describe('GsmStack', () => {
  it('holds the table, the bucket, the HTTP API, the Node 22 Lambdas, the activity, the Fargate relay, the intake and execution-ended rules', () => {
    // Act
    const { template } = build();

    // Assess
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::StepFunctions::Activity', 1);
    template.resourceCountIs('AWS::ECS::Service', 1);
    template.resourceCountIs('AWS::Events::Rule', 2);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });
    const gsmFunctions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^gsm ') },
    });
    // The API, the trigger, execution-ended, and one per workflow task.
    const taskCount = new Set(WORKFLOWS.flatMap((w) => Object.keys(w.tasks))).size;
    expect(Object.keys(gsmFunctions)).toHaveLength(3 + taskCount);
    for (const fn of Object.values(gsmFunctions)) {
      expect(fn).toMatchObject({ Properties: { Runtime: 'nodejs22.x', Architectures: ['arm64'] } });
    }
  });

  it('deploys one state machine per workflow the list gives (the list is data), the action among them', () => {
    // Act
    const { stack, template } = build();

    // Assess
    template.resourceCountIs('AWS::StepFunctions::StateMachine', WORKFLOWS.length);
    expect(stack.workflows.action).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'gsm API (Hono app)',
      Environment: {
        Variables: Match.objectLike({
          GSM_STATE_MACHINE_ACTION: stack.resolve(stack.workflows.action?.stateMachine.stateMachineArn),
        }),
      },
    });
  });

  it('wires a listed workflow: one Lambda per task, its machine, the API variable and an alarm', () => {
    // Act
    const { stack, template } = build({ withWorkflow: true });

    // Assess
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Description: Match.stringLikeRegexp('^gsm workflow task ') },
      Object.keys(EXAMPLE_TASKS).length,
    );
    const machine = stack.resolve(stack.workflows.example?.stateMachine.stateMachineArn);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'gsm API (Hono app)',
      Environment: { Variables: Match.objectLike({ GSM_STATE_MACHINE_EXAMPLE: machine }) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('a example execution failed'),
    });
  });

  it('gives two stacks in one app distinct relay activities, each wired to its own machines and relay', () => {
    // Arrange
    const app = testApp();
    const stacks = ['GsmProd', 'GsmStaging'].map((name) => new GsmStack(app, name));

    // Act
    const templates = stacks.map((stack) => Template.fromStack(stack));

    // Assess
    const names = templates.map((template) =>
      Object.values(template.findResources('AWS::StepFunctions::Activity')).map(
        (activity) => (activity as { Properties: { Name: string } }).Properties.Name,
      ),
    );
    expect(names).toEqual([['GsmProd-relay'], ['GsmStaging-relay']]);
    stacks.forEach((stack, i) => {
      const template = templates[i]!;
      const activityRef = stack.resolve(stack.relay.activity.activityArn) as { Ref: string };
      // Every state machine's definition points at this stack's activity, none at another name.
      for (const machine of Object.values(template.findResources('AWS::StepFunctions::StateMachine'))) {
        const definition = JSON.stringify(
          (machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString,
        );
        expect(definition).not.toContain(':activity:');
        if (stack.workflows.action && definition.includes('RunShard')) {
          expect(definition).toContain(JSON.stringify(activityRef));
        }
      }
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [
          Match.objectLike({
            Environment: Match.arrayWith([{ Name: 'GSM_RELAY_ACTIVITY_ARN', Value: activityRef }]),
          }),
        ],
      });
      template.hasOutput('RelayActivityArn', { Value: activityRef });
    });
  });

  it('sets a retention on every log group', () => {
    // Act
    const { template } = build({ withWorkflow: true });

    // Assess
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
  });

  it('is environment-agnostic, so it synthesizes with no account, region or lookup', () => {
    // Act
    const { stack } = build();

    // Assess
    expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
  });

  it("passes CDK's own CloudFormation schema validation with nothing to report", () => {
    // Prepare
    const { app } = build({ withWorkflow: true, schemaValidation: true });

    // Act: the built-in check reports schema problems as warnings into the assembly.
    const assembly = app.synth();
    const reportPath = path.join(assembly.directory, 'validation-report.json');
    const report = existsSync(reportPath)
      ? (JSON.parse(readFileSync(reportPath, 'utf8')) as { pluginReports: { violations: unknown[] }[] })
      : { pluginReports: [] };

    // Assess
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  }, 60_000);
});
