import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  actionsOf,
  baseResources,
  type PolicyStatementJson,
  resourcesOf,
  testStack,
} from '../test-support.js';
import {
  RELAY_ACTIVITY_ACTIONS,
  RELAY_ACTIVITY_VARIABLE,
  RELAY_SECRET_VARIABLE,
  Relay,
  relayActivityNameFor,
} from './relay.js';

const build = (image?: string) => {
  const stack = testStack();
  const resources = baseResources(stack);
  const relay = new Relay(stack, 'Relay', { ...resources, desiredCount: 2, ...(image ? { image } : {}) });
  return { stack, relay, ...resources, template: Template.fromStack(stack) };
};

const managedPolicyStatements = (template: Template): PolicyStatementJson[] =>
  Object.values(template.findResources('AWS::IAM::ManagedPolicy')).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }).Properties
        .PolicyDocument.Statement,
  );

describe('Relay', () => {
  it("names the relay activity after the stack ('Test' → Test-relay)", () => {
    // Act
    const { relay, template } = build();

    // Assess
    expect(relay.activityName).toBe('Test-relay');
    template.hasResourceProperties('AWS::StepFunctions::Activity', { Name: 'Test-relay' });
  });

  it('keeps a long stack name under the 80-character cap, still distinct per stack', () => {
    // Arrange
    const long = 'S'.repeat(120);

    // Act
    const a = relayActivityNameFor(long);
    const b = relayActivityNameFor(`${long}x`);

    // Assess
    expect(a).toHaveLength(80);
    expect(a).toMatch(/^S+-[0-9a-f]{8}-relay$/);
    expect(b).toHaveLength(80);
    expect(a).not.toBe(b);
    expect(relayActivityNameFor('Gsm')).toBe('Gsm-relay');
  });

  it('runs the relay on Fargate (arm64) in private subnets, without a public IP', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          AssignPublicIp: 'DISABLED',
          Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('RelayVpcrelaySubnet') }]),
        }),
      },
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('hands the container its activity, table and bucket, and the agent secret only as a secret', () => {
    // Act
    const { stack, relay, data, secrets, template } = build();

    // Assess
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'GSM_TABLE', Value: stack.resolve(data.table.tableName) },
            { Name: RELAY_ACTIVITY_VARIABLE, Value: stack.resolve(relay.activity.activityArn) },
          ]),
          Secrets: [
            { Name: RELAY_SECRET_VARIABLE, ValueFrom: stack.resolve(secrets.agentMasterSecret.secretArn) },
          ],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
  });

  it('allows only the four activity calls, on that one activity', () => {
    // Act
    const { stack, relay, template } = build();

    // Assess
    const states = managedPolicyStatements(template).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('states:')),
    );
    expect(states).toHaveLength(1);
    expect([...actionsOf(states[0]!)].sort()).toEqual([...RELAY_ACTIVITY_ACTIONS].sort());
    expect(resourcesOf(states[0]!)).toEqual([stack.resolve(relay.activity.activityArn)]);
  });

  it('gives the Fargate task role and the on-premises role the same one policy', () => {
    // Act
    const { stack, relay, template } = build();

    // Assess
    const policy = stack.resolve(relay.policy.managedPolicyArn);
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: [policy] }, 2);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })],
      },
      ManagedPolicyArns: [policy],
    });
  });

  it('pulls a prebuilt image from ECR when given one, instead of building from the repository', () => {
    // Act
    const { template } = build('123456789012.dkr.ecr.eu-west-1.amazonaws.com/gsm-relay:1.2.3');

    // Assess
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Image: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('gsm-relay:1.2.3$')])] },
        }),
      ],
    });
  });

  it('keeps flow logs and container logs with a retention', () => {
    // Act
    const { template } = build();

    // Assess
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
  });
});
