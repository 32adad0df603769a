import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DEFINITION, EXAMPLE_TASKS } from './constructs/workflow.fixture.js';
import { GsmStack } from './stacks/gsm-stack.js';
import { testApp } from './test-support.js';

interface Finding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
  readonly description: string;
}

/** Runs the pack over the synthesized tree and lists what is neither compliant nor acknowledged. */
const nagFindings = (withWorkflow: boolean): Finding[] => {
  const app = testApp({ context: { 'gsm:test': true } });
  const stack = new GsmStack(app, 'Gsm', {
    // Today's stack builds the relay image from the repository; the other case pulls a prebuilt one.
    ...(withWorkflow ? { relayImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/gsm-relay:1.0.0' } : {}),
    ...(withWorkflow
      ? { workflows: [{ name: 'example', definition: () => EXAMPLE_DEFINITION, tasks: EXAMPLE_TASKS }] }
      : {}),
  });
  // Synthesize first: some resources (log retention, bucket notifications) appear only then.
  Template.fromStack(stack);
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      severity: violation.severity ?? 'error',
      path: resource.constructPath ?? resource.resourceLogicalId ?? '?',
      description: violation.description,
    })),
  );
};

describe('cdk-nag AwsSolutions', () => {
  it.each([
    { shape: 'as deployed today (no workflows yet)', withWorkflow: false },
    { shape: 'with a workflow of Lambda and activity tasks', withWorkflow: true },
  ])('finds nothing unacknowledged in the stack $shape', ({ withWorkflow }) => {
    // Act
    const findings = nagFindings(withWorkflow);

    // Assess: errors and warnings alike; an accepted finding is acknowledged with its reason.
    expect(findings).toEqual([]);
  });

  it('does report what it should, so a clean run means something', () => {
    // Prepare: a bucket with none of the protections PackagesBucket sets.
    const app = testApp();
    const stack = new Stack(app, 'Bare');
    new s3.Bucket(stack, 'Bare');
    Template.fromStack(stack);

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assess
    const rules = report.violations.map((violation) => violation.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });
});
