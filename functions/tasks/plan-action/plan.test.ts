import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../../core/model/index.js';
import type { NewAction } from '../../../core/store/types.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { planAction, shardHosts } from './plan.js';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:gsm-action:x';

const baseAction: Pick<Action, 'id' | 'action' | 'params' | 'strategy'> = {
  id: 'act-1',
  action: 'status',
  params: {},
  strategy: { maxConcurrency: 50, maxErrors: 0, jobTimeoutSec: 300 },
};

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i).padStart(4, '0')}`);

describe('shardHosts', () => {
  it('keeps the hosts running at once at maxConcurrency across the shards in flight', () => {
    const shards = shardHosts(baseAction, hosts(250), { total: 250, maxErrors: 3, mapConcurrency: 10 });

    expect(shards.map((s) => s.jobs.length)).toEqual([84, 84, 82]);
    expect(shards.map((s) => s.maxConcurrency)).toEqual([16, 16, 16]);
    expect(shards.every((s) => s.maxErrors === 3 && s.parentId === 'act-1')).toBe(true);
    expect(shards[0]?.jobs[0]).toEqual({
      jobId: 'act-1.h0000.status',
      hostId: 'h0000',
      action: 'status',
      params: {},
    });
    // 84 hosts, 16 at a time: 6 rounds of 300 s, plus slack.
    expect(shards[0]?.timeoutSec).toBe(6 * 300 + 60);
  });

  it('runs one host at a time in one shard when maxConcurrency is 1', () => {
    const shards = shardHosts(
      { ...baseAction, strategy: { ...baseAction.strategy, maxConcurrency: 1 } },
      hosts(250),
      { total: 250, maxErrors: 0, mapConcurrency: 10 },
    );
    expect(shards).toHaveLength(1);
    expect(shards[0]).toMatchObject({ maxConcurrency: 1 });
    expect(shards[0]?.jobs).toHaveLength(250);
  });

  it('resolves a percentage against every target, unknown hosts included', () => {
    const shards = shardHosts(
      { ...baseAction, strategy: { ...baseAction.strategy, maxConcurrency: '10%' } },
      hosts(18),
      { total: 20, maxErrors: 0, mapConcurrency: 10 },
    );
    expect(shards.map((s) => s.maxConcurrency)).toEqual([2]);
  });

  it('never gives a shard less time than a heartbeat allows', () => {
    const shards = shardHosts(
      { ...baseAction, strategy: { ...baseAction.strategy, jobTimeoutSec: 5 } },
      hosts(3),
      { total: 3, maxErrors: 0, mapConcurrency: 10 },
    );
    expect(shards[0]?.timeoutSec).toBe(120);
  });
});

describe('planAction', () => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'plan');
    for (const id of ['eu-2', 'eu-1', 'us-1']) {
      await db.store.hosts.create({
        id,
        address: '127.0.0.1',
        tags: { region: id.slice(0, 2), group: 'demo' },
      });
    }
  });
  afterAll(async () => db?.close());

  const create = (input: Partial<NewAction>) =>
    db.store.actions.create({ action: 'status', target: { tags: { group: 'demo' } }, ...input });
  const plan = (actionId: string) =>
    planAction({ store: db.store }, { actionId, executionArn: EXECUTION, mapConcurrency: 10 });

  it('resolves tags to hosts sorted by id, queues their jobs and marks the action running', async () => {
    const action = await create({ target: { tags: { region: 'eu' } }, params: { instance: 'alpha' } });

    const result = await plan(action.id);

    expect(result).toMatchObject({ actionId: action.id, total: 2, maxErrors: 0 });
    expect(result.shards).toHaveLength(1);
    expect(result.shards[0]?.jobs.map((j) => j.hostId)).toEqual(['eu-1', 'eu-2']);
    expect(await db.store.actions.get(action.id)).toMatchObject({
      state: 'running',
      hostIds: ['eu-1', 'eu-2'],
      executionArn: EXECUTION,
    });
    const jobs = (await db.store.jobs.listByParent(action.id)).items;
    expect(jobs.map((j) => [j.id, j.state, j.params])).toEqual([
      [`${action.id}.eu-1.status`, 'queued', { instance: 'alpha' }],
      [`${action.id}.eu-2.status`, 'queued', { instance: 'alpha' }],
    ]);
  });

  it('fails unknown hosts at once, counts them against maxErrors and leaves them out of the shards', async () => {
    const action = await create({
      target: { hosts: ['us-1', 'ghost', 'eu-1'] },
      strategy: { maxErrors: '50%' },
    });

    const result = await plan(action.id);

    expect(result).toMatchObject({ total: 3, maxErrors: 1 });
    expect(result.shards.flatMap((s) => s.jobs.map((j) => j.hostId))).toEqual(['eu-1', 'us-1']);
    expect(await db.store.jobs.get(`${action.id}.ghost.status`)).toMatchObject({
      state: 'failed',
      error: { code: 'E_UNKNOWN_HOST', message: "host 'ghost' is not registered" },
    });
    expect(await db.store.counters.get(action.id)).toEqual({ failed: 1 });
    expect((await db.store.actions.get(action.id)).hostIds).toEqual(['eu-1', 'ghost', 'us-1']);
  });

  it('gives the same plan when retried, without counting a host twice', async () => {
    const action = await create({ target: { hosts: ['ghost', 'eu-1'] } });
    const first = await plan(action.id);
    const again = await plan(action.id);

    expect(again).toEqual(first);
    expect(await db.store.counters.get(action.id)).toEqual({ failed: 1 });
  });

  it('fails an action whose tags match no host, saying so', async () => {
    const action = await create({ target: { tags: { region: 'mars' } } });

    const result = await plan(action.id);

    expect(result.shards).toEqual([]);
    expect(await db.store.actions.get(action.id)).toMatchObject({
      state: 'failed',
      reason: 'the target matches no host (tags region=mars)',
    });
  });

  it('plans nothing for an action that has already ended', async () => {
    const action = await create({});
    await db.store.actions.transition(action.id, 'cancelled');
    expect((await plan(action.id)).shards).toEqual([]);
  });
});
