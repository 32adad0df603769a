import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Data } from './constructs/data.js';
import { PackagesBucket } from './constructs/packages-bucket.js';
import { Secrets } from './constructs/secrets.js';
import { FEATURE_FLAGS } from './feature-flags.js';

export interface TestAppOptions {
  readonly context?: Readonly<Record<string, unknown>>;
  /** CDK's own CloudFormation schema check costs ~9 s per synth; one stack test keeps it on. */
  readonly schemaValidation?: boolean;
}

/**
 * An app whose NodejsFunctions skip esbuild: bundling every handler makes each test take
 * seconds, and what a test checks is the template, not the bundle. `npx cdk synth` bundles.
 */
export const testApp = (options: TestAppOptions = {}): App =>
  new App({
    context: { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [], ...options.context },
    builtinCloudFormationValidation: options.schemaValidation ?? false,
  });

export const testStack = (options: TestAppOptions = {}): Stack => new Stack(testApp(options), 'Test');

export interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: unknown;
}

const asList = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

/** Every statement of every identity policy in the template: inline, managed, and roles' own. */
export const identityStatements = (template: Template): PolicyStatementJson[] => {
  const documents: unknown[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const resource of Object.values(template.findResources(type))) {
      documents.push((resource as { Properties: { PolicyDocument: unknown } }).Properties.PolicyDocument);
    }
  }
  for (const resource of Object.values(template.findResources('AWS::IAM::Role'))) {
    const policies = (resource as { Properties: { Policies?: { PolicyDocument: unknown }[] } }).Properties
      .Policies;
    for (const policy of policies ?? []) documents.push(policy.PolicyDocument);
  }
  return documents.flatMap((doc) => asList((doc as { Statement?: PolicyStatementJson[] }).Statement));
};

export const actionsOf = (statement: PolicyStatementJson): readonly string[] => asList(statement.Action);
export const resourcesOf = (statement: PolicyStatementJson): readonly unknown[] => asList(statement.Resource);

/** The resources most constructs take as props, built the way the stack builds them. */
export const baseResources = (stack: Stack) => ({
  data: new Data(stack, 'Data'),
  packages: new PackagesBucket(stack, 'Packages'),
  secrets: new Secrets(stack, 'Secrets'),
});

/** Statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
export const statementsOfRole = (template: Template, rolePrefix: string): PolicyStatementJson[] =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap((resource) => {
    const properties = (resource as { Properties: { Roles?: { Ref?: string }[]; PolicyDocument: unknown } })
      .Properties;
    const attached = (properties.Roles ?? []).some((role) => role.Ref?.startsWith(rolePrefix));
    return attached
      ? asList((properties.PolicyDocument as { Statement?: PolicyStatementJson[] }).Statement)
      : [];
  });
