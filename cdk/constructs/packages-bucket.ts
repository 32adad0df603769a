import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { INCOMING_PREFIX, UPLOAD_PREFIX } from '../../core/model/s3-keys.js';

export interface PackagesBucketProps {
  /** Days before an unfinished multipart upload is aborted (its parts cost storage until then). */
  readonly abortIncompleteUploadAfterDays?: number;
  /** Days an overwritten or deleted package version is kept, for recovery. */
  readonly noncurrentVersionDays?: number;
  /** Days server access logs are kept. */
  readonly accessLogDays?: number;
}

/** Object actions the API needs to run a presigned multipart upload, resume it and abort it. */
export const UPLOAD_ACTIONS = [
  's3:PutObject',
  's3:GetObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
] as const;

/**
 * The packages bucket: builds land here (CLI uploads under `uploads/`, build-pipeline drops
 * under `incoming/`) and are read back to verify and stage them. Every object-created event
 * goes to EventBridge, where the intake rule picks the prefixes it wants.
 */
export class PackagesBucket extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: PackagesBucketProps = {}) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogDays ?? 365) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket itself; logging it into itself (or a third bucket) adds no audit value.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      eventBridgeEnabled: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'packages/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'abort-incomplete-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(props.abortIncompleteUploadAfterDays ?? 7),
        },
        {
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
    // eventBridgeEnabled is switched on by a stack-wide custom resource that CDK owns.
    const notifications = Stack.of(this)
      .node.children.filter((child) => child.node.id.startsWith('BucketNotificationsHandler'))
      .flatMap((handler) => handler.node.children.filter((child) => child.node.id === 'Role'));
    for (const role of notifications) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's own BucketNotificationsHandler custom resource; its role is not configurable.",
      });
    }
  }

  /** `arn:…:bucket/<prefix>*`: object permissions are always scoped to one key prefix. */
  public objectsArn(prefix: string): string {
    return this.bucket.arnForObjects(`${prefix}*`);
  }

  /** The API hands out presigned part URLs under `uploads/`: it signs them, so it needs these. */
  public grantUpload(grantee: iam.IRole): iam.Grant {
    return this.grantObjects(grantee, [...UPLOAD_ACTIONS], [UPLOAD_PREFIX]);
  }

  /** DELETE /v1/packages removes a package's object, whichever way it arrived. */
  public grantRemovePackages(grantee: iam.IRole): iam.Grant {
    return this.grantObjects(grantee, ['s3:DeleteObject'], [UPLOAD_PREFIX, INCOMING_PREFIX]);
  }

  /** Intake reads what arrived, under either prefix, to hash it. */
  public grantReadPackages(grantee: iam.IRole): iam.Grant {
    return this.grantObjects(grantee, ['s3:GetObject'], [UPLOAD_PREFIX, INCOMING_PREFIX]);
  }

  private grantObjects(grantee: iam.IRole, actions: string[], prefixes: readonly string[]): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: prefixes.map((prefix) => this.objectsArn(prefix)),
    });
    const logicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    for (const prefix of prefixes) {
      Validations.of(grantee).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`,
        reason: `Object permissions name objects by key; this grant is narrowed to the '${prefix}' prefix.`,
      });
    }
    return grant;
  }
}
