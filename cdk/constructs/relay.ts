import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Data } from './data.js';
import { logGroup } from './defaults.js';
import { serviceEnvironment } from './environment.js';
import { REPO_ROOT } from './node-function.js';
import type { PackagesBucket } from './packages-bucket.js';
import type { Secrets } from './secrets.js';

/** The activity calls a relay makes, and nothing else on Step Functions. */
export const RELAY_ACTIVITY_ACTIONS = [
  'states:GetActivityTask',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
] as const;

/** Read by relay/config.ts: where the relay polls, and the master secret agents' keys derive from. */
export const RELAY_ACTIVITY_VARIABLE = 'GSM_RELAY_ACTIVITY_ARN';
export const RELAY_SECRET_VARIABLE = 'GSM_AGENT_MASTER_SECRET';

/** What never goes into the image's build context (the repository root). */
const DOCKER_EXCLUDE = [
  'node_modules',
  '.git',
  'cdk.out',
  'dist',
  '.gsm',
  'coverage',
  'test-output',
  'bench/.data',
];

/** Step Functions caps activity names at 80 characters. */
const MAX_ACTIVITY_NAME = 80;

/**
 * `<stack name>-relay`: activity names are unique per account and region, so two gsm stacks
 * there (staging and production, say) must not poll one activity and run each other's jobs.
 * A stack name too long for the cap keeps its start plus a hash of the whole name.
 */
export const relayActivityNameFor = (stackName: string): string => {
  const name = `${stackName}-relay`;
  if (name.length <= MAX_ACTIVITY_NAME) return name;
  const digest = createHash('sha256').update(stackName).digest('hex').slice(0, 8);
  return `${stackName.slice(0, MAX_ACTIVITY_NAME - '-relay'.length - digest.length - 1)}-${digest}-relay`;
};

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)(?::([^@]+))?$/;

export interface RelayProps {
  readonly data: Data;
  readonly packages: PackagesBucket;
  readonly secrets: Secrets;
  /** `<stack name>-relay` by default (see relayActivityNameFor). */
  readonly activityName?: string;
  /** An existing VPC whose private subnets route to the hosts (VPN, Direct Connect, NAT). */
  readonly vpc?: ec2.IVpc;
  /**
   * A prebuilt image (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` or any public
   * URI). Without one, cdk/relay/Dockerfile is built from this repository at deploy time.
   */
  readonly image?: string;
  readonly desiredCount?: number;
  readonly logLevel?: string;
}

/**
 * The relay: the stack's own relay activity, the permissions any relay needs (one managed policy),
 * a Fargate service in private subnets holding that policy, and a role for relays that run
 * in the hosts' own data centres instead (they need only outbound access).
 */
export class Relay extends Construct {
  public readonly activity: sfn.Activity;
  /** This stack's activity name (`<stack name>-relay`), which relays find as GSM_RELAY_ACTIVITY_ARN. */
  public readonly activityName: string;
  public readonly policy: iam.ManagedPolicy;
  public readonly onPremisesRole: iam.Role;
  public readonly vpc: ec2.IVpc;
  public readonly cluster: ecs.Cluster;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly service: ecs.FargateService;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RelayProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    if (!props.activityName && Token.isUnresolved(stackName)) {
      throw new Error(
        'the relay activity is named after the stack, so the stack name must be known at synth',
      );
    }
    this.activityName = props.activityName ?? relayActivityNameFor(stackName);
    this.activity = new sfn.Activity(this, 'Activity', { activityName: this.activityName });

    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description:
        'gsm relay: poll and complete the relay activity, read and write the gsm table, read the agent secret',
      statements: [
        new iam.PolicyStatement({
          actions: [...RELAY_ACTIVITY_ACTIONS],
          resources: [this.activity.activityArn],
        }),
      ],
    });
    props.data.grantReadWrite(this.policy);
    props.secrets.grantReadAgentSecret(this.policy);

    this.onPremisesRole = new iam.Role(this, 'OnPremisesRole', {
      description:
        'gsm relay running outside AWS (assumed through IAM Roles Anywhere or by an operator principal)',
      assumedBy: new iam.AccountRootPrincipal(),
      managedPolicies: [this.policy],
      maxSessionDuration: Duration.hours(12),
    });

    this.vpc = props.vpc ?? this.createVpc();
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: 512,
      memoryLimitMiB: 1024,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.taskDefinition.taskRole.addManagedPolicy(this.policy);
    this.logGroup = logGroup(this, 'Logs');
    this.taskDefinition.addContainer('relay', {
      image: this.image(props.image),
      essential: true,
      readonlyRootFilesystem: true,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'relay' }),
      environment: {
        ...serviceEnvironment({
          data: props.data,
          packages: props.packages,
          ...(props.logLevel ? { logLevel: props.logLevel } : {}),
        }),
        AWS_REGION: Stack.of(this).region,
        [RELAY_ACTIVITY_VARIABLE]: this.activity.activityArn,
      },
      secrets: {
        [RELAY_SECRET_VARIABLE]: ecs.Secret.fromSecretsManager(props.secrets.agentMasterSecret),
      },
      stopTimeout: Duration.seconds(120),
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken takes no resource; pulling the image itself is granted on its one repository.',
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds resource names and ARNs only; the agent master secret comes from Secrets Manager.',
    });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'gsm relay: no inbound; outbound to Step Functions, DynamoDB and the game hosts',
      allowAllOutbound: true,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 1,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      securityGroups: [securityGroup],
      circuitBreaker: { rollback: true },
      // Several relays share one table without double-running a job, so a deploy may overlap.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
    });
  }

  private createVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'relay', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup(this, 'FlowLogGroup')),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    return vpc;
  }

  private image(uri: string | undefined): ecs.ContainerImage {
    if (!uri) {
      return ecs.ContainerImage.fromAsset(REPO_ROOT, {
        file: path.join('cdk', 'relay', 'Dockerfile'),
        exclude: DOCKER_EXCLUDE,
        platform: Platform.LINUX_ARM64,
      });
    }
    const ecrImage = ECR_IMAGE.exec(uri);
    if (ecrImage?.[3]) {
      const repository = ecr.Repository.fromRepositoryAttributes(this, 'Repository', {
        repositoryName: ecrImage[3],
        repositoryArn: `arn:aws:ecr:${ecrImage[2]}:${ecrImage[1]}:repository/${ecrImage[3]}`,
      });
      return ecs.ContainerImage.fromEcrRepository(repository, ecrImage[4] ?? 'latest');
    }
    return ecs.ContainerImage.fromRegistry(uri);
  }
}
