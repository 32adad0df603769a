import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Release } from '../../core/model/index.js';
import type { Store } from '../../core/store/types.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../test/helpers/dynamodb.js';
import { createReleaseJobsView } from './release-jobs-view.js';

type ReleaseFacts = Pick<Release, 'id' | 'state' | 'updatedAt' | 'rollbackRequestedAt'>;

describe('release jobs view (dynalite)', () => {
  let db: TestDynamoDb;
  let clock = 0;
  let reads = 0;
  let store: Store;
  const releaseId = 'rel-view-1';

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'release-jobs-view');
    // One read of a release's jobs lists its deploys and its rollbacks: count the deploy lists.
    store = {
      ...db.store,
      jobs: {
        ...db.store.jobs,
        listByParent: (parentId, page) => {
          if (parentId === releaseId) reads += 1;
          return db.store.jobs.listByParent(parentId, page);
        },
      },
    };
    await db.store.jobs.createMany(
      ['h1', 'h2'].map((hostId) => ({
        id: `${releaseId}.${hostId}`,
        parentType: 'release' as const,
        parentId: releaseId,
        hostId,
        action: 'deploy',
      })),
    );
  });
  afterAll(async () => {
    await db?.close();
  });

  const at = (ms: number) => new Date(ms).toISOString();
  const running = (changedAt: number): ReleaseFacts => ({
    id: releaseId,
    state: 'running',
    updatedAt: at(changedAt),
  });
  const view = () => {
    reads = 0;
    clock = 10_000;
    return createReleaseJobsView(store, {
      maxAgeMs: 1_000,
      maxStaleMs: 5_000,
      settleMs: 2_000,
      now: () => clock,
    });
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('reads the jobs once for every caller while the read is young', async () => {
    const jobs = view();

    const [a, b] = await Promise.all([jobs.jobsOf(running(9_000)), jobs.jobsOf(running(9_000))]);
    clock += 999;
    const c = await jobs.jobsOf(running(9_000));

    expect(a.deploys.map((job) => job.hostId)).toEqual(['h1', 'h2']);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(reads).toBe(1);
  });

  it('serves a stale read while a newer one is made, then the newer one', async () => {
    const jobs = view();
    const first = await jobs.jobsOf(running(9_000));
    await db.store.jobs.transition(`${releaseId}.h1`, 'dispatched');

    clock += 1_500;
    const stale = await jobs.jobsOf(running(9_000));
    await settle();
    const newer = await jobs.jobsOf(running(9_000));

    expect(stale).toBe(first);
    expect(reads).toBe(2);
    expect(newer.readAt).toBe(11_500);
    expect(newer.deploys.find((job) => job.hostId === 'h1')?.state).toBe('dispatched');
  });

  it('waits for a fresh read when the last one is too old to serve', async () => {
    const jobs = view();
    await jobs.jobsOf(running(9_000));

    clock += 5_000;
    const fresh = await jobs.jobsOf(running(9_000));

    expect(fresh.readAt).toBe(15_000);
    expect(reads).toBe(2);
  });

  it('never serves a read older than the release record’s last change', async () => {
    const jobs = view();
    await jobs.jobsOf(running(9_000));

    clock += 10;
    const afterChange = await jobs.jobsOf(running(10_005));

    expect(afterChange.readAt).toBe(10_010);
    expect(reads).toBe(2);
  });

  it('keeps an ended release’s jobs once read after they settled, and reads again on a rollback', async () => {
    const jobs = view();
    const ended: ReleaseFacts = { id: releaseId, state: 'succeeded', updatedAt: at(9_500) };
    await jobs.jobsOf(ended);
    clock = 11_600;
    await jobs.jobsOf(ended);
    await settle();

    clock += 60_000;
    const settled = await jobs.jobsOf(ended);
    const later = await jobs.jobsOf(ended);
    const rollingBack = await jobs.jobsOf({
      ...ended,
      rollbackRequestedAt: at(clock - 1),
      updatedAt: at(clock - 1),
    });

    expect(settled.readAt).toBe(11_600);
    expect(later).toBe(settled);
    expect(rollingBack.readAt).toBe(clock);
    expect(reads).toBe(3);
  });
});
