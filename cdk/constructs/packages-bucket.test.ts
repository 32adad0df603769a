import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, it } from 'vitest';
import { INCOMING_PREFIX, UPLOAD_PREFIX } from '../../core/model/s3-keys.js';
import { testStack } from '../test-support.js';
import { PackagesBucket, UPLOAD_ACTIONS } from './packages-bucket.js';

const build = () => {
  const stack = testStack();
  const packages = new PackagesBucket(stack, 'Packages', { abortIncompleteUploadAfterDays: 3 });
  const api = new iam.Role(stack, 'Api', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const task = new iam.Role(stack, 'Task', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  packages.grantUpload(api);
  packages.grantReadPackages(task);
  return { stack, packages, template: Template.fromStack(stack) };
};

const BLOCK_ALL = {
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
};

describe('PackagesBucket', () => {
  it('is versioned, encrypted, private, and sends every event to EventBridge', () => {
    // Act
    const { stack, packages, template } = build();

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: BLOCK_ALL,
      LoggingConfiguration: {
        DestinationBucketName: stack.resolve(packages.accessLogs.bucketName),
        LogFilePrefix: 'packages/',
      },
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  it('aborts unfinished multipart uploads and expires old versions', () => {
    // Act
    const { template } = build();

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 }, Status: 'Enabled' }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('refuses plain HTTP on both buckets', () => {
    // Act
    const { template } = build();

    // Assess
    template.resourcePropertiesCountIs(
      'AWS::S3::BucketPolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      },
      2,
    );
  });

  it.each([
    { who: 'the API', role: 'Api', actions: [...UPLOAD_ACTIONS].sort(), prefixes: [UPLOAD_PREFIX] },
    {
      who: 'a workflow task',
      role: 'Task',
      actions: 's3:GetObject',
      prefixes: [UPLOAD_PREFIX, INCOMING_PREFIX],
    },
  ])('grants $who object actions under its prefixes only', ({ role, actions, prefixes }) => {
    // Act
    const { stack, packages, template } = build();

    // Assess
    const arn = stack.resolve(packages.bucket.bucketArn);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${role}`) }] },
    });
    const resources = [...prefixes].sort().map((prefix) => ({ 'Fn::Join': ['', [arn, `/${prefix}*`]] }));
    Template.fromJSON({ Resources: policies }).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: actions, Resource: resources.length === 1 ? resources[0] : resources },
        ],
      },
    });
  });
});
