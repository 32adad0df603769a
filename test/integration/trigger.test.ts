import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createS3Client, createSfnClient } from '../../core/aws.js';
import { createLogger } from '../../core/log.js';
import { type S3BucketEvent, S3ObjectCreatedEvent } from '../../core/model/events.js';
import { UPLOAD_PREFIX } from '../../core/model/s3-keys.js';
import { handleObjectCreated, type TriggerDeps, type TriggerResult } from '../../functions/trigger/index.js';
import { type LocalS3, startS3 } from '../../local/s3.js';
import { type StepFunctionsServer, startStepFunctions } from '../../local/stepfunctions/index.js';

const BUCKET = 'gsm-trigger-it';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/local';

/** Stands in for the intake workflow: its output is its input, so the input can be read back. */
const echoMachine = { StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } };

describe('S3 event → trigger → Step Functions (local emulators, real clients)', () => {
  let s3: LocalS3;
  let sfnServer: StepFunctionsServer;
  let s3Client: S3Client;
  let sfn: SFNClient;
  let deps: TriggerDeps;
  let stateMachineArn: string;
  let delivered: { event: S3BucketEvent; result: TriggerResult }[] = [];

  beforeAll(async () => {
    const logger = createLogger('test', { level: 'silent' });
    sfnServer = await startStepFunctions({ logger });
    sfn = createSfnClient({
      region: 'us-east-1',
      endpoints: { stepfunctions: sfnServer.endpoint },
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: 'gsm-intake',
        definition: JSON.stringify(echoMachine),
        roleArn: ROLE_ARN,
      }),
    );
    stateMachineArn = created.stateMachineArn!;
    deps = { sfn, intakeStateMachineArn: stateMachineArn, uploadPrefix: UPLOAD_PREFIX, logger };

    s3 = await startS3({
      bucket: BUCKET,
      logger,
      onEvent: async (event) => {
        delivered.push({ event, result: await handleObjectCreated(event, deps) });
      },
    });
    s3Client = createS3Client({
      region: s3.region,
      endpoints: { s3: s3.endpoint },
      credentials: s3.credentials,
      s3ForcePathStyle: true,
    });
  });

  afterAll(async () => {
    s3Client?.destroy();
    sfn?.destroy();
    await s3?.close();
    await sfnServer?.close();
  });

  beforeEach(async () => {
    await s3.drainEvents();
    delivered = [];
  });

  const finished = async (executionArn: string): Promise<DescribeExecutionCommandOutput> => {
    const deadline = Date.now() + 8_000;
    for (;;) {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (described.status !== 'RUNNING' || Date.now() > deadline) return described;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('starts intake for a multipart upload with the decoded key, once, however often the event comes', async () => {
    // Prepare
    const key = 'uploads/cod4x@21.3/cod4x server+hotfix ü.tar.bz2';
    const { UploadId } = await s3Client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const part = await s3Client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: 'game server bits' }),
    );

    // Act
    await s3Client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.drainEvents();

    // Assess
    expect(delivered).toHaveLength(1);
    const [{ event, result }] = delivered as [(typeof delivered)[number]];
    expect(event.detail.reason).toBe('CompleteMultipartUpload');
    expect(result.started).toBe(true);
    if (!result.started) return;
    const execution = await finished(result.executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.input ?? '')).toEqual({
      bucket: BUCKET,
      key,
      size: 16,
      etag: `${createHash('md5')
        .update(Buffer.from(part.ETag!.replace(/"/g, ''), 'hex'))
        .digest('hex')}-1`,
      sequencer: S3ObjectCreatedEvent.parse(event).detail.object.sequencer,
      kind: 'upload',
      packageId: 'cod4x@21.3',
      fileName: 'cod4x server+hotfix ü.tar.bz2',
    });
    expect(execution.name).toBe(result.executionName);

    // Act: EventBridge delivers at least once
    const again = await handleObjectCreated(event, deps);
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));

    // Assess
    expect(again).toMatchObject({ started: false, reason: 'duplicate', executionName: result.executionName });
    expect(listed.executions?.filter((e) => e.name === result.executionName)).toHaveLength(1);
  });

  it('starts a new intake when the same key is stored again', async () => {
    const key = 'incoming/cod4x/21.4/server.tar.bz2';

    await s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'first' }));
    await s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'second' }));
    await s3.drainEvents();

    const names = delivered.map(({ result }) => (result.started ? result.executionName : result.reason));
    expect(delivered.map(({ result }) => result.started)).toEqual([true, true]);
    expect(new Set(names).size).toBe(2);
  });

  it('starts nothing for a SHA-256 sidecar or a key outside the layouts', async () => {
    await s3Client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'incoming/cod4x/21.4/server.tar.bz2.sha256', Body: 'ab' }),
    );
    await s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'notes/readme.txt', Body: 'hi' }));
    await s3.drainEvents();

    expect(delivered.map(({ result }) => result)).toEqual([
      { started: false, reason: 'sha256-sidecar' },
      { started: false, reason: 'ignored-key' },
    ]);
  });
});
