/**
 * CDK feature flags the app is written against, given to the App in code so that tests and
 * `npx cdk synth` synthesize alike (cdk.json context reaches only the latter).
 */
export const FEATURE_FLAGS = {
  // Access logs are delivered under a bucket policy, so both buckets can refuse ACLs.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/core:checkSecretUsage': true,
} as const;
