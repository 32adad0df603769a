import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { createReleaseJobsView } from '../release-jobs-view.js';
import { releaseDetail, releaseRecordReads } from './release-detail.js';

describe('release detail over shared reads (dynalite)', () => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'release-detail');
  });
  afterAll(async () => db?.close());

  const pending = () =>
    db.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { hosts: ['h1'] },
      strategy: {},
    });

  it("serves one record read while it is young, shows the workflow's change once it ages, and never the token", async () => {
    const clock = { now: 50_000 };
    const reads = {
      jobsView: createReleaseJobsView(db.store),
      records: releaseRecordReads({ now: () => clock.now }),
    };
    const { id } = await pending();

    expect((await releaseDetail(db.store, id, reads)).state).toBe('pending');
    // The workflow writes straight to the store, as its task handlers do.
    await db.store.releases.transition(id, 'running');
    await db.store.releases.transition(id, 'waiting_approval', { approvalToken: 'tok', approvalWave: 1 });
    clock.now += 200;
    expect((await releaseDetail(db.store, id, reads)).state).toBe('pending');

    clock.now += 2_000;
    const aged = await releaseDetail(db.store, id, reads);
    expect(aged.state).toBe('waiting_approval');
    expect(aged).not.toHaveProperty('approvalToken');
  });

  it('reads again at once after invalidate, and remembers no unknown release', async () => {
    const reads = { records: releaseRecordReads() };
    const { id } = await pending();
    expect((await releaseDetail(db.store, id, reads)).state).toBe('pending');
    await db.store.releases.transition(id, 'running');
    reads.records.invalidate();
    expect((await releaseDetail(db.store, id, reads)).state).toBe('running');

    await expect(releaseDetail(db.store, 'rel-nope', reads)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});
