import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';
import { createPackageObjects, type PackageObjects } from '../../../core/store/objects.js';
import { type LocalS3, localS3Client, startS3 } from '../../../local/s3.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { type VerifyDeps, verifyPackage } from './verify.js';

const BUCKET = 'verify-packages';
const logger = createLogger('test', { level: 'silent' });

/**
 * Two intakes of one package (the object written twice, so S3 sent two events): the first
 * claims the verification and hashes; the second leaves it to the first instead of hashing the
 * same object again, and cannot reject what the first is verifying.
 */
describe('verifyPackage', () => {
  let db: TestDynamoDb;
  let s3: LocalS3;
  let client: S3Client;
  let objects: PackageObjects;
  const body = randomBytes(256 * 1024);
  const sha256 = createHash('sha256').update(body).digest('hex');

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'verify-package');
    s3 = await startS3({ bucket: BUCKET, logger });
    client = localS3Client(s3);
    objects = createPackageObjects({ s3: client, bucket: BUCKET });
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.close();
    await db?.close();
  });

  const dropped = async (version: string, declared = sha256) => {
    const key = `incoming/verify/${version}/server.tar.gz`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    return db.store.packages.create({
      game: 'verify',
      version,
      fileName: 'server.tar.gz',
      size: body.length,
      sha256: declared,
      s3Key: key,
      state: 'verifying',
    });
  };

  /** Counts the reads, and holds each one until `release` is called. */
  const heldObjects = () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const counted = { reads: 0, release };
    const wrapped: PackageObjects = {
      ...objects,
      read: async (key) => {
        counted.reads += 1;
        await held;
        return objects.read(key);
      },
    };
    return { counted, deps: { store: db.store, objects: wrapped, logger } satisfies VerifyDeps };
  };

  it('lets one intake hash a package while another of the same package waits for its result', async () => {
    const pkg = await dropped('1.0.0');
    const { counted, deps } = heldObjects();

    const first = verifyPackage(deps, { packageId: pkg.id, executionName: 'intake-a' });
    await expect.poll(() => counted.reads).toBe(1);
    const second = await verifyPackage(deps, { packageId: pkg.id, executionName: 'intake-b' });
    const failedSecond = await verifyPackage(deps, {
      packageId: pkg.id,
      executionName: 'intake-b',
      failure: 'States.Timeout',
    });

    expect(second).toMatchObject({ packageId: pkg.id, state: 'verifying' });
    expect(failedSecond.state).toBe('verifying');
    expect(counted.reads).toBe(1);
    counted.release();
    expect(await first).toMatchObject({ state: 'verified', sha256 });
    expect(await db.store.packages.get(pkg.id)).toMatchObject({
      state: 'verified',
      verifyingExecution: 'intake-a',
      s3ETag: createHash('md5').update(body).digest('hex'),
    });
    // The second intake, run again later (a retry), finds it settled.
    expect(await verifyPackage(deps, { packageId: pkg.id, executionName: 'intake-b' })).toMatchObject({
      state: 'verified',
    });
    expect(counted.reads).toBe(1);
  });

  it('rejects a hash mismatch for the intake that holds the verification, with the reason', async () => {
    const pkg = await dropped('1.1.0', 'f'.repeat(64));
    const result = await verifyPackage(
      { store: db.store, objects, logger },
      { packageId: pkg.id, executionName: 'intake-c' },
    );

    expect(result).toMatchObject({ state: 'rejected' });
    expect(result.reason).toBe(
      `hash mismatch: declared sha256 ${'f'.repeat(64)}, stored object has ${sha256}`,
    );
  });

  it('rejects for the holder when its verification failed for good, and verifies without a claim when none is named', async () => {
    const failing = await dropped('1.2.0');
    const unnamed = await dropped('1.3.0');
    const deps = { store: db.store, objects, logger };

    const failed = await verifyPackage(deps, {
      packageId: failing.id,
      executionName: 'intake-d',
      failure: 'States.Timeout',
    });
    const verified = await verifyPackage(deps, { packageId: unnamed.id });

    expect(failed).toMatchObject({ state: 'rejected', reason: 'verification failed: States.Timeout' });
    expect(verified.state).toBe('verified');
    expect((await db.store.packages.get(unnamed.id)).verifyingExecution).toBeUndefined();
  });

  it('rejects a package whose object is written again while it is hashed, naming both ETags', async () => {
    const pkg = await dropped('1.4.0');
    const other = randomBytes(1024);
    const overwriting: PackageObjects = {
      ...objects,
      read: async (key) => {
        const read = await objects.read(key);
        // What it hashes is the snapshot it opened; the key then names other bytes.
        const chunks: Buffer[] = [];
        for await (const chunk of read.body) chunks.push(chunk as Buffer);
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: other }));
        return { ...read, body: Readable.from(chunks) };
      },
    };

    const result = await verifyPackage(
      { store: db.store, objects: overwriting, logger },
      { packageId: pkg.id, executionName: 'intake-e' },
    );

    const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
    expect(result).toMatchObject({ state: 'rejected' });
    expect(result.reason).toBe(
      `${pkg.s3Key} was overwritten while it was verified (ETag ${md5(body)}, now ${md5(other)}): ` +
        `a version's bytes never change; delete the package and push it again`,
    );
    expect((await db.store.packages.get(pkg.id)).s3ETag).toBeUndefined();
  });
});
