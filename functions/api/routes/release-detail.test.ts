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

  it('builds the detail once per pair of shared reads, and anew when either changes', async () => {
    // Neither read ages during the test: the records' clock stands still, the jobs' age is long.
    const reads = {
      jobsView: createReleaseJobsView(db.store, { maxAgeMs: 60_000, maxStaleMs: 120_000 }),
      records: releaseRecordReads({ now: () => 0 }),
    };
    const { id } = await pending();
    const first = await releaseDetail(db.store, id, reads);
    expect(await releaseDetail(db.store, id, reads)).toBe(first);
    await db.store.releases.transition(id, 'running');
    reads.records.invalidate();
    const moved = await releaseDetail(db.store, id, reads);
    expect(moved).not.toBe(first);
    expect(moved.state).toBe('running');
    // Straight from the store, every call is its own read.
    expect(await releaseDetail(db.store, id)).not.toBe(await releaseDetail(db.store, id));
  });
});
