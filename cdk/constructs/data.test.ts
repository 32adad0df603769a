import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { createTableInput, TABLE } from '../../core/store/table.js';
import { testStack } from '../test-support.js';
import { Data, TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS } from './data.js';

const build = () => {
  const stack = testStack();
  const data = new Data(stack, 'Data');
  const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  data.grantRead(role);
  return { stack, data, template: Template.fromStack(stack) };
};

describe('Data', () => {
  it('builds the table the local stack creates: the same keys, attributes and indexes', () => {
    // Prepare
    const local = createTableInput('gsm');

    // Act
    const { template } = build();

    // Assess
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: local.KeySchema,
      AttributeDefinitions: Match.arrayWith(local.AttributeDefinitions ?? []),
      GlobalSecondaryIndexes: (local.GlobalSecondaryIndexes ?? []).map((index) =>
        Match.objectLike({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: { ProjectionType: 'ALL' },
        }),
      ),
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
    });
    const [table] = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
    const definitions = (table as { Properties: { AttributeDefinitions: unknown[] } }).Properties
      .AttributeDefinitions;
    expect(definitions).toHaveLength(local.AttributeDefinitions?.length ?? 0);
  });

  it('keeps the fleet history safe: point-in-time recovery, deletion protection, retained on stack delete', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          }),
        ],
      }),
    });
  });

  it('grants item actions on the table and each named index, never index/* or dynamodb:*', () => {
    // Act
    const { stack, data, template } = build();

    // Assess
    const arn = stack.resolve(data.table.tableArn);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            // minimizePolicies sorts actions and resources.
            Action: [...TABLE_READ_ACTIONS].sort(),
            Resource: [
              arn,
              ...TABLE.indexes
                .map((index) => index.name)
                .sort()
                .map((name) => ({ 'Fn::Join': ['', [arn, `/index/${name}`]] })),
            ],
          },
        ],
      },
    });
    expect([...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS].some((action) => action.includes('*'))).toBe(
      false,
    );
  });
});
