import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { testStack } from '../test-support.js';
import { EXAMPLE_DEFINITION } from './workflow.fixture.js';
import { type AslDefinition, Workflow } from './workflow.js';

const inlineFunction = (stack: Stack, id: string): lambda.Function =>
  new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => ({});'),
  });

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as lambda.CfnFunction);

/** The deployed definition, with each reference to another resource written as `<<LogicalId>>`. */
const deployedDefinition = (template: Template): Record<string, unknown> => {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const body = (machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const ref = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (ref.Ref) return `<<${ref.Ref}>>`;
    if (ref['Fn::GetAtt']) return `<<${ref['Fn::GetAtt'][0]}>>`;
    throw new Error(`unexpected part ${JSON.stringify(part)}`);
  };
  const join = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  return JSON.parse(join ? join[1].map(render).join(join[0]) : render(body));
};

const build = (definition: AslDefinition = EXAMPLE_DEFINITION) => {
  const stack = testStack();
  const plan = inlineFunction(stack, 'PlanWaves');
  const evaluate = inlineFunction(stack, 'EvaluateWave');
  const unused = inlineFunction(stack, 'Unused');
  const activity = new sfn.Activity(stack, 'Relay', { activityName: 'gsm-relay' });
  const workflow = new Workflow(stack, 'Release', {
    definition,
    functions: { 'plan-waves': plan, 'evaluate-wave': evaluate, unused },
    activities: { 'gsm-relay': activity },
  });
  return { stack, plan, evaluate, activity, workflow, template: Template.fromStack(stack) };
};

describe('Workflow', () => {
  it('deploys the definition it is given, with only the task resources pointed at deployed ARNs', () => {
    // Act
    const { stack, plan, evaluate, activity, template } = build();

    // Assess: the input, with exactly these three fields swapped for references.
    const expected = structuredClone(EXAMPLE_DEFINITION) as {
      States: {
        Plan: { Parameters: { FunctionName: string } };
        Waves: {
          ItemProcessor: { States: { RunWave: { Resource: string }; Evaluate: { Resource: string } } };
        };
      };
    };
    expected.States.Plan.Parameters.FunctionName = `<<${logicalId(stack, plan)}>>`;
    expected.States.Waves.ItemProcessor.States.RunWave.Resource = `<<${stack.getLogicalId(activity.node.defaultChild as sfn.CfnActivity)}>>`;
    expected.States.Waves.ItemProcessor.States.Evaluate.Resource = `<<${logicalId(stack, evaluate)}>>`;
    expect(deployedDefinition(template)).toEqual(expected);
  });

  it('leaves the input object untouched (the emulator and the console use the same one)', () => {
    // Prepare
    const before = structuredClone(EXAMPLE_DEFINITION);

    // Act
    build();

    // Assess
    expect(EXAMPLE_DEFINITION).toEqual(before);
  });

  it('may invoke exactly the functions the definition names, by their plain ARNs', () => {
    // Act
    const { stack, plan, evaluate, template } = build();

    // Assess
    const invoke = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (
          policy as {
            Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
          }
        ).Properties.PolicyDocument.Statement,
    );
    const invokeStatements = invoke.filter((statement) => statement.Action === 'lambda:InvokeFunction');
    expect(invokeStatements).toHaveLength(1);
    expect(invokeStatements[0]?.Resource).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [logicalId(stack, plan), 'Arn'] },
        { 'Fn::GetAtt': [logicalId(stack, evaluate), 'Arn'] },
      ]),
    );
    expect(invokeStatements[0]?.Resource).toHaveLength(2);
  });

  it('logs every execution event to a log group with retention, and traces with X-Ray', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
  });

  it.each([
    {
      what: 'a function it was not given',
      state: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'nope' },
        End: true,
      },
      message: /invokes 'nope'/,
    },
    {
      what: 'an activity it was not given',
      state: { Type: 'Task', Resource: 'arn:aws:states:us-east-1:123456789012:activity:other', End: true },
      message: /activity 'other'/,
    },
  ])('refuses a definition that uses $what', ({ state, message }) => {
    expect(() => build({ StartAt: 'Only', States: { Only: state } })).toThrow(message);
  });
});
