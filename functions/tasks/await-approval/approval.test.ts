import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELEASE_CANCELLED_ERROR } from '../../../core/model/index.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { awaitApproval } from './approval.js';

describe('awaitApproval', () => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'await-approval');
  });
  afterAll(async () => db?.close());

  const running = async () => {
    const release = await db.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { hosts: ['h1'] },
      strategy: {},
    });
    await db.store.releases.transition(release.id, 'running');
    return release.id;
  };

  it('parks a running release at the gate with its token', async () => {
    const releaseId = await running();

    await awaitApproval({ store: db.store }, { releaseId, wave: 1, taskToken: 'tok-1' });

    expect(await db.store.releases.get(releaseId)).toMatchObject({
      state: 'waiting_approval',
      approvalToken: 'tok-1',
      approvalWave: 1,
    });
  });

  it('fails the gate instead of parking a release whose cancel was requested', async () => {
    const releaseId = await running();
    await db.store.releases.requestCancel(releaseId, 'stop it');

    const parked = awaitApproval({ store: db.store }, { releaseId, wave: 1, taskToken: 'tok-2' });

    await expect(parked).rejects.toMatchObject({ name: RELEASE_CANCELLED_ERROR, message: 'stop it' });
    const release = await db.store.releases.get(releaseId);
    expect(release.state).toBe('running');
    expect(release.approvalToken).toBeUndefined();
  });
});
