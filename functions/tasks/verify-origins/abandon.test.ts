import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';
import type { PackageObjects } from '../../../core/store/objects.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { abandonStaging } from './abandon.js';

/** abandonStaging reads no object; staging that failed never gets this far with S3. */
const noObjects = {} as PackageObjects;

describe('abandonStaging', () => {
  let db: TestDynamoDb;
  const deps = () => ({
    store: db.store,
    objects: noObjects,
    logger: createLogger('test', { level: 'silent' }),
  });

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'abandon-staging');
    await db.store.origins.create({ id: 'eu', baseUrl: 'http://127.0.0.1:9/gsm/', hostId: 'origin-eu' });
    await db.store.origins.create({ id: 'us', baseUrl: 'http://127.0.0.1:9/us', hostId: 'origin-us' });
  });
  afterAll(async () => db?.close());

  const staging = async (version: string, execution: string) => {
    const pkg = await db.store.packages.create({
      game: 'cod4x',
      version,
      fileName: 'server.tar.bz2',
      size: 10,
      sha256: 'a'.repeat(64),
      s3Key: `incoming/cod4x/${version}/server.tar.bz2`,
      state: 'verifying',
    });
    await db.store.packages.transition(pkg.id, 'verified');
    return db.store.packages.transition(pkg.id, 'staging', { stagingExecution: execution });
  };

  it("puts its own execution's package back to verified with the error, every origin listed unverified", async () => {
    const pkg = await staging('21.1', 'intake-1');
    const cause = JSON.stringify({
      errorType: 'GsmError',
      errorMessage: 'DynamoDB UpdateItem failed (ThrottlingException)',
    });

    const result = await abandonStaging(deps(), {
      packageId: pkg.id,
      executionName: 'intake-1',
      error: { Error: 'GsmError', Cause: cause },
    });

    const reason = 'staging failed: GsmError: DynamoDB UpdateItem failed (ThrottlingException)';
    expect(result).toEqual({ packageId: pkg.id, abandoned: true, state: 'verified', reason });
    const after = await db.store.packages.get(pkg.id);
    expect(after).toMatchObject({ state: 'verified', reason });
    expect(after.origins).toEqual([
      {
        id: 'eu',
        url: 'http://127.0.0.1:9/gsm/packages/cod4x/21.1/server.tar.bz2',
        verified: false,
        error: reason,
      },
      {
        id: 'us',
        url: 'http://127.0.0.1:9/us/packages/cod4x/21.1/server.tar.bz2',
        verified: false,
        error: reason,
      },
    ]);
  });

  it("leaves another execution's staging, and a package it never moved, as they are", async () => {
    const other = await staging('21.2', 'intake-2');
    const notOurs = await abandonStaging(deps(), {
      packageId: other.id,
      executionName: 'intake-old',
      error: { Error: 'States.Timeout' },
    });
    expect(notOurs).toEqual({ packageId: other.id, abandoned: false, state: 'staging' });
    expect(await db.store.packages.get(other.id)).toMatchObject({ state: 'staging', origins: [] });

    // A cause that is not JSON reads as it is.
    const ours = await abandonStaging(deps(), {
      packageId: other.id,
      executionName: 'intake-2',
      error: { Error: 'States.Timeout', Cause: 'the task timed out' },
    });
    expect(ours.reason).toBe('staging failed: States.Timeout: the task timed out');
    expect(
      await abandonStaging(deps(), { packageId: other.id, executionName: 'intake-2', error: {} }),
    ).toMatchObject({ abandoned: false, state: 'verified' });
  });
});
