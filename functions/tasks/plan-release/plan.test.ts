import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewRelease } from '../../../core/store/types.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { planRelease } from './plan.js';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:gsm-release:x';
const SHA = 'a'.repeat(64);
const URLS = ['http://127.0.0.1:9001/demo/1.1.0/demo.tar.gz', 'http://127.0.0.1:9002/demo/1.1.0/demo.tar.gz'];

describe('planRelease', () => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'plan-release');
    for (const id of ['h3', 'h1', 'h2', 'h4', 'h5']) {
      await db.store.hosts.create({
        id,
        address: '127.0.0.1',
        tags: { group: id === 'h5' ? 'other' : 'demo' },
        // h4 runs no demo yet: a first install.
        instances: id === 'h4' ? [] : [{ name: 'main', game: 'demo', port: 27960, version: '1.0.0' }],
      });
    }
    const staged = await db.store.packages.create({
      game: 'demo',
      version: '1.1.0',
      fileName: 'demo.tar.gz',
      size: 1234,
      s3Key: 'packages/demo/1.1.0/demo.tar.gz',
      state: 'verifying',
    });
    await db.store.packages.transition(staged.id, 'verified', { sha256: SHA });
    await db.store.packages.transition(staged.id, 'staging');
    await db.store.packages.transition(staged.id, 'staged', {
      origins: [
        { id: 'o1', url: URLS[0] as string, verified: true },
        { id: 'o3', url: 'http://127.0.0.1:9003/x', verified: false, error: 'hash mismatch' },
        { id: 'o2', url: URLS[1] as string, verified: true },
      ],
    });
    await db.store.packages.create({
      game: 'demo',
      version: '0.9.0',
      fileName: 'demo.tar.gz',
      size: 1,
      s3Key: 'packages/demo/0.9.0/demo.tar.gz',
      state: 'verifying',
    });
  });
  afterAll(async () => db?.close());

  const create = (input: Partial<NewRelease>) =>
    db.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { tags: { group: 'demo' } },
      strategy: {},
      ...input,
    });
  const plan = (releaseId: string) =>
    planRelease({ store: db.store }, { releaseId, executionArn: EXECUTION, mapConcurrency: 10 });

  it('plans tagged hosts sorted by id, canary first, with one queued deploy job per host', async () => {
    // Prepare
    const release = await create({ strategy: { batch: 2, maxErrors: 1, approval: 'after-canary' } });
    // Act
    const result = await plan(release.id);
    // Assess
    expect(result).toMatchObject({ ok: true, total: 4, maxErrors: 1, rollback: true });
    expect(result.waves.map((w) => [w.kind, w.gate, w.size])).toEqual([
      ['canary', false, 1],
      ['batch', true, 2],
      ['batch', false, 1],
    ]);
    const [canaryShard] = result.waves[0]?.shards ?? [];
    expect(canaryShard).toMatchObject({ parentType: 'release', parentId: release.id, maxErrors: 1 });
    expect(canaryShard?.jobs).toEqual([
      {
        jobId: `${release.id}.h1.deploy`,
        hostId: 'h1',
        action: 'deploy',
        params: {
          urls: URLS,
          sha256: SHA,
          size: 1234,
          version: '1.1.0',
          drain: { timeoutSec: 300 },
          healthTimeoutSec: 60,
        },
      },
    ]);
    const stored = await db.store.releases.get(release.id);
    expect(stored).toMatchObject({
      state: 'running',
      executionArn: EXECUTION,
      hostIds: ['h1', 'h2', 'h3', 'h4'],
      versionsBefore: { h1: '1.0.0', h2: '1.0.0', h3: '1.0.0' },
    });
    expect(stored.waves.map((w) => w.hostIds)).toEqual([['h1'], ['h2', 'h3'], ['h4']]);
    const jobs = await db.store.jobs.listByParent(release.id);
    expect(jobs.items.map((j) => [j.hostId, j.action, j.state])).toEqual([
      ['h1', 'deploy', 'queued'],
      ['h2', 'deploy', 'queued'],
      ['h3', 'deploy', 'queued'],
      ['h4', 'deploy', 'queued'],
    ]);
  });

  it('keeps the order of hosts named by id, and a retried plan changes nothing', async () => {
    const release = await create({
      target: { hosts: ['h4', 'h2', 'h4', 'h5'] },
      strategy: { canary: 0, batch: 10 },
    });
    const first = await plan(release.id);
    const again = await plan(release.id);

    expect(first.waves[0]?.shards[0]?.jobs.map((j) => j.hostId)).toEqual(['h4', 'h2', 'h5']);
    expect(again).toEqual(first);
  });

  it.each([
    [{ target: { hosts: ['h1', 'nope'] } }, 'unknown host(s): nope'],
    [{ target: { tags: { group: 'none' } } }, 'the target matches no host'],
    [{ version: '2.0.0', packageId: 'demo@2.0.0' }, 'package demo@2.0.0 does not exist'],
    [{ version: '0.9.0', packageId: 'demo@0.9.0' }, "package 'demo@0.9.0' is verifying, not staged"],
    [{ strategy: { maxErrors: 4 } }, 'strategy.maxErrors: 4 allows every one of the 4 target hosts to fail'],
    [{ strategy: { approval: 'later' } }, 'strategy.approval'],
  ])('refuses %j: the release fails with the reason and no job is made', async (input, reason) => {
    const release = await create(input);
    const result = await plan(release.id);

    expect(result).toEqual({
      releaseId: release.id,
      ok: false,
      total: 0,
      maxErrors: 0,
      rollback: false,
      waves: [],
    });
    const stored = await db.store.releases.get(release.id);
    expect(stored.state).toBe('failed');
    expect(stored.reason).toContain(reason);
    expect((await db.store.jobs.listByParent(release.id)).items).toEqual([]);
  });
});
