import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { logGroup } from './defaults.js';

/** An Amazon States Language document, as plain JSON: the object the local emulator runs. */
export type AslDefinition = Readonly<Record<string, unknown>>;

export interface WorkflowProps {
  /** The definition exactly as workflows/ builds it for the emulator. */
  readonly definition: AslDefinition;
  /** Task function name (as the definition names it) → the deployed function. */
  readonly functions?: Readonly<Record<string, lambda.IFunction>>;
  /** Activity name (as the definition's activity ARN ends) → the deployed activity. */
  readonly activities?: Readonly<Record<string, sfn.IActivity>>;
  readonly stateMachineName?: string;
  /** Log every event (cdk-nag's SF1) by default; ERROR keeps a busy release's bill down. */
  readonly logLevel?: sfn.LogLevel;
}

type Json = Record<string, unknown>;

const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/;
const FUNCTION_ARN = /^arn:aws:lambda:[^:]*:[^:]*:function:([A-Za-z0-9_-]+)(?::[A-Za-z0-9$_-]+)?$/;
const ACTIVITY_ARN = /^arn:aws:states:[^:]*:[^:]*:activity:([^:\s]+)$/;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A function reference in any form Lambda's Invoke takes, down to the bare name. */
const functionName = (ref: string): string => FUNCTION_ARN.exec(ref)?.[1] ?? ref.split(':')[0] ?? ref;

export interface ResourceResolver {
  readonly functionArn: (name: string, at: string) => string;
  readonly activityArn: (name: string, at: string) => string;
}

/**
 * Returns a copy of the definition whose Task resources point at deployed resources: the
 * function of a `lambda:invoke` (Parameters.FunctionName), a function ARN in Resource, an
 * activity ARN in Resource. Nothing else changes — a test holds it to that.
 */
export const substituteResources = (definition: AslDefinition, resolve: ResourceResolver): Json => {
  const copy = structuredClone(definition) as Json;
  const visitMachine = (machine: Json, at: string): void => {
    const states = machine.States;
    if (!isObject(states)) return;
    for (const [name, state] of Object.entries(states)) {
      if (isObject(state)) visitState(state, `${at}/States/${name}`);
    }
  };
  const visitState = (state: Json, at: string): void => {
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      const resource = state.Resource;
      const activity = ACTIVITY_ARN.exec(resource)?.[1];
      const fn = FUNCTION_ARN.exec(resource)?.[1];
      if (LAMBDA_INVOKE.test(resource) && isObject(state.Parameters)) {
        const ref = state.Parameters.FunctionName;
        // A FunctionName.$ path is chosen at run time: it cannot be resolved (nor granted) here.
        if (typeof ref === 'string')
          state.Parameters.FunctionName = resolve.functionArn(functionName(ref), at);
      } else if (activity) {
        state.Resource = resolve.activityArn(activity, at);
      } else if (fn) {
        state.Resource = resolve.functionArn(fn, at);
      }
    }
    if (state.Type === 'Map') {
      for (const field of ['ItemProcessor', 'Iterator'] as const) {
        const inner = state[field];
        if (isObject(inner)) visitMachine(inner, `${at}/${field}`);
      }
    }
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, i) => {
        if (isObject(branch)) visitMachine(branch, `${at}/Branches/${i}`);
      });
    }
  };
  visitMachine(copy, '');
  return copy;
};

/**
 * One state machine from a workflows/ definition. The definition is deployed as the
 * emulator runs it, with only the task resources swapped for real ARNs; the role may invoke
 * exactly the functions the definition names.
 */
export class Workflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const functions = props.functions ?? {};
    const activities = props.activities ?? {};
    const used = new Set<lambda.IFunction>();
    const body = substituteResources(props.definition, {
      functionArn: (name, at) => {
        const fn = functions[name];
        if (!fn) throw new Error(`workflow ${id}: ${at} invokes '${name}', which is not among its functions`);
        used.add(fn);
        return fn.functionArn;
      },
      activityArn: (name, at) => {
        const activity = activities[name];
        if (!activity) throw new Error(`workflow ${id}: ${at} uses activity '${name}', which was not given`);
        return activity.activityArn;
      },
    });

    this.logGroup = logGroup(this, 'Logs');
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(body)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: props.logLevel ?? sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
    });
    // Exactly the functions the definition names, each by its own ARN (no `:*` qualifiers).
    if (used.size > 0) {
      this.stateMachine.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [...used].map((fn) => fn.functionArn),
        }),
      );
    }
    // Activity tasks need no permission on the execution role: workers poll them with their own.
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Execution logging (logs:*LogDelivery*, DescribeLogGroups …) and X-Ray (PutTraceSegments …) take no ' +
        'resource-level permissions; Step Functions documents them on "*".',
    });
  }
}
