import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GsmError } from '../../../core/errors.js';
import { createLogger } from '../../../core/log.js';
import type { IntakeInput } from '../../../core/model/index.js';
import { createPackageObjects } from '../../../core/store/objects.js';
import { type LocalS3, localS3Client, startS3 } from '../../../local/s3.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import {
  type ActionWorkflowStack,
  type FakeRelay,
  startFakeRelay,
  startWorkflowStack,
} from '../../../workflows/action.fixture.js';
import {
  INTAKE_REGISTER_FUNCTION,
  intakeDefinition,
  PLAN_STAGING_FUNCTION,
  VERIFY_ORIGINS_FUNCTION,
  VERIFY_PACKAGE_FUNCTION,
} from '../../../workflows/intake.js';
import { registerOrLoad } from '../intake-register/register.js';
import { planStaging } from '../plan-staging/plan.js';
import { verifyPackage } from '../verify-package/verify.js';
import { abandonStaging } from './abandon.js';

/**
 * The intake workflow in the emulator with its real task functions, except that checking the
 * origins keeps failing as it would with the store unreachable: past VerifyOrigins' retries
 * the Catch puts the package back to verified with the error and every origin listed, and the
 * execution fails, instead of the package staging forever.
 */
describe('intake: staging that fails past its retries', () => {
  const BUCKET = 'staging-failed';
  const logger = createLogger('test', { level: 'silent' });
  let db: TestDynamoDb;
  let s3: LocalS3;
  let client: S3Client;
  let stack: ActionWorkflowStack;
  let relay: FakeRelay;

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'staging-failed');
    s3 = await startS3({ bucket: BUCKET, logger });
    client = localS3Client(s3);
    const deps = { store: db.store, objects: createPackageObjects({ s3: client, bucket: BUCKET }), logger };
    stack = await startWorkflowStack({
      name: 'gsm-intake',
      lambdas: async (name) => {
        if (name === INTAKE_REGISTER_FUNCTION) return async (event) => registerOrLoad(deps, event as never);
        if (name === VERIFY_PACKAGE_FUNCTION) return async (event) => verifyPackage(deps, event as never);
        if (name === PLAN_STAGING_FUNCTION) return async (event) => planStaging(deps, event as never);
        if (name === VERIFY_ORIGINS_FUNCTION) {
          return async (event) => {
            const { abandon } = event as { abandon?: Parameters<typeof abandonStaging>[1] };
            if (abandon) return abandonStaging(deps, abandon);
            throw new GsmError('E_UNAVAILABLE', 'DynamoDB GetItem failed (ServiceUnavailable)');
          };
        }
        return undefined;
      },
      definition: (relayActivityArn) => intakeDefinition({ relayActivityArn }),
    });
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store });
    await db.store.origins.create({ id: 'eu', baseUrl: 'http://127.0.0.1:9/eu', hostId: 'origin-eu' });
    await db.store.origins.create({ id: 'us', baseUrl: 'http://127.0.0.1:9/us', hostId: 'origin-us' });
  });
  afterAll(async () => {
    await relay?.stop();
    await stack?.close();
    client?.destroy();
    await s3?.close();
    await db?.close();
  });

  it('puts the package back to verified with the error and every origin listed, and fails the execution', async () => {
    const body = randomBytes(64 * 1024);
    const key = 'uploads/cod4x@21.3/server.tar.bz2';
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const pkg = await db.store.packages.create({
      game: 'cod4x',
      version: '21.3',
      fileName: 'server.tar.bz2',
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      s3Key: key,
      state: 'verifying',
    });
    const input: IntakeInput = {
      bucket: BUCKET,
      key,
      size: body.length,
      etag: 'e',
      sequencer: '01',
      kind: 'upload',
      packageId: pkg.id,
      fileName: 'server.tar.bz2',
    };
    const { executionArn } = await stack.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.stateMachineArn,
        name: 'intake-21-3',
        input: JSON.stringify(input),
      }),
    );

    let ended: { status?: string; error?: string } = {};
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      ended = await stack.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (ended.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    expect(ended).toMatchObject({ status: 'FAILED', error: 'GsmStagingFailed' });
    expect(relay.ran).toHaveLength(2);
    const after = await db.store.packages.get(pkg.id);
    expect(after.state).toBe('verified');
    expect(after.reason).toMatch(/^staging failed: .*DynamoDB GetItem failed \(ServiceUnavailable\)/);
    expect(after.origins.map((o) => [o.id, o.verified])).toEqual([
      ['eu', false],
      ['us', false],
    ]);
  }, 40_000);
});
