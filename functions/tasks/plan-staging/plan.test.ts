import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';
import { createPackageObjects, type PackageObjects } from '../../../core/store/objects.js';
import { type LocalS3, localS3Client, startS3 } from '../../../local/s3.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { abandonStaging } from '../verify-origins/abandon.js';
import { PackageObjectChanged, planStaging, type StagingDeps } from './plan.js';

const BUCKET = 'plan-staging';
const md5 = (bytes: string) => createHash('md5').update(bytes).digest('hex');

describe('planStaging', () => {
  let db: TestDynamoDb;
  let s3: LocalS3;
  let client: S3Client;
  let objects: PackageObjects;
  let deps: StagingDeps;

  beforeAll(async () => {
    const logger = createLogger('test', { level: 'silent' });
    db = await startTestDynamoDb('dynalite', 'plan-staging');
    s3 = await startS3({ bucket: BUCKET, logger });
    client = localS3Client(s3);
    objects = createPackageObjects({ s3: client, bucket: BUCKET });
    deps = { store: db.store, objects, logger };
    await db.store.origins.create({ id: 'eu', baseUrl: 'http://127.0.0.1:9/gsm', hostId: 'origin-eu' });
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.close();
    await db?.close();
  });

  /** A package verified from `verifiedBytes`, whose key now holds `storedBytes`. */
  const verified = async (version: string, verifiedBytes: string, storedBytes: string) => {
    const key = `incoming/plan/${version}/server.tar.gz`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: storedBytes }));
    const pkg = await db.store.packages.create({
      game: 'plan',
      version,
      fileName: 'server.tar.gz',
      size: verifiedBytes.length,
      sha256: createHash('sha256').update(verifiedBytes).digest('hex'),
      s3Key: key,
      state: 'verifying',
    });
    return db.store.packages.transition(pkg.id, 'verified', { s3ETag: md5(verifiedBytes) });
  };

  it('plans one stage job per origin from the object that was verified', async () => {
    const pkg = await verified('1.0.0', 'build one', 'build one');

    const plan = await planStaging(deps, { packageId: pkg.id, executionName: 'intake-1', attempt: 1 });

    expect(plan).toMatchObject({ done: false, originIds: ['eu'] });
    expect(plan.shards[0]?.jobs[0]).toMatchObject({ hostId: 'origin-eu', action: 'stage' });
    expect((await db.store.packages.get(pkg.id)).state).toBe('staging');
  });

  it('stages nothing from an object written again after verification, and the package says why', async () => {
    const pkg = await verified('1.1.0', 'build one', 'build two');

    const planning = planStaging(deps, { packageId: pkg.id, executionName: 'intake-2', attempt: 1 });

    const message =
      `${pkg.s3Key} is not the object package 'plan@1.1.0' was verified from (ETag ${md5('build one')}, ` +
      `now ${md5('build two')}): it was written again, so nothing is staged from it; push the build as a new version`;
    await expect(planning).rejects.toThrow(PackageObjectChanged);
    await expect(planning).rejects.toThrow(message);
    // What the intake's Catch does with it: back to verified, with the reason.
    const error = { Error: 'PackageObjectChanged', Cause: JSON.stringify({ errorMessage: message }) };
    await abandonStaging(deps, { packageId: pkg.id, executionName: 'intake-2', error });
    expect(await db.store.packages.get(pkg.id)).toMatchObject({
      state: 'verified',
      reason: `staging failed: PackageObjectChanged: ${message}`,
    });
  });
});
