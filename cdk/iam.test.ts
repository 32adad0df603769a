import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DEFINITION, EXAMPLE_TASKS } from './constructs/workflow.fixture.js';
import { GsmStack } from './stacks/gsm-stack.js';
import { actionsOf, identityStatements, resourcesOf, testApp } from './test-support.js';

const template = (withWorkflow: boolean): Template =>
  Template.fromStack(
    new GsmStack(testApp(), 'Gsm', {
      ...(withWorkflow
        ? { workflows: [{ name: 'example', definition: () => EXAMPLE_DEFINITION, tasks: EXAMPLE_TASKS }] }
        : {}),
    }),
  );

/** `dynamodb:*`, `s3:Get*` and the like: an action pattern rather than an action. */
const isWildcardAction = (action: string): boolean => action.includes('*');

describe('least-privilege IAM', () => {
  it.each([
    { shape: 'today', withWorkflow: false },
    { shape: 'with a workflow', withWorkflow: true },
  ])('no identity policy allows a wildcard action ($shape)', ({ withWorkflow }) => {
    // Act
    const statements = identityStatements(template(withWorkflow));

    // Assess
    expect(statements.length).toBeGreaterThan(10);
    const offending = statements.filter(
      (statement) => statement.NotAction !== undefined || actionsOf(statement).some(isWildcardAction),
    );
    expect(offending).toEqual([]);
  });

  it.each([
    { shape: 'today', withWorkflow: false },
    { shape: 'with a workflow', withWorkflow: true },
  ])('no DynamoDB or S3 action is allowed on every resource ($shape)', ({ withWorkflow }) => {
    // Act
    const statements = identityStatements(template(withWorkflow));

    // Assess
    const offending = statements.filter(
      (statement) =>
        statement.Effect === 'Allow' &&
        resourcesOf(statement).includes('*') &&
        actionsOf(statement).some((action) => /^(dynamodb|s3):/.test(action)),
    );
    expect(offending).toEqual([]);
  });

  it('sees the statements it must judge (the scan is not vacuous)', () => {
    // Act
    const actions = identityStatements(template(true)).flatMap(actionsOf);

    // Assess
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:Query',
        's3:GetObject',
        'states:GetActivityTask',
        'lambda:InvokeFunction',
      ]),
    );
  });
});
