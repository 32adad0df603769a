import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { evaluateWave } from './evaluate.js';

describe('evaluateWave', () => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'evaluate-wave');
  });
  afterAll(async () => db?.close());

  const release = async (failed: number) => {
    const created = await db.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { hosts: ['h1'] },
      strategy: {},
    });
    await db.store.releases.transition(created.id, 'running');
    if (failed > 0) await db.store.counters.add(created.id, { failed, succeeded: 3 });
    return created.id;
  };
  const ok = { shard: 0, counts: { succeeded: 3, failed: 0, skipped: 0 } };

  it.each([
    [0, 0, 'continue'],
    [1, 1, 'continue'],
    [2, 1, 'stop'],
    [1, 0, 'stop'],
  ] as const)(
    'with %i cumulative failure(s) and maxErrors %i, decides %s',
    async (failed, maxErrors, decision) => {
      const releaseId = await release(failed);
      const result = await evaluateWave(
        { store: db.store },
        { releaseId, wave: 1, maxErrors, shardResults: [ok] },
      );

      expect(result).toMatchObject({ releaseId, decision, failed, maxErrors });
      if (decision === 'stop') {
        expect(result.reason).toBe(`${failed} host(s) failed by wave 2, more than maxErrors ${maxErrors}`);
      }
    },
  );

  it('stops when a shard did not complete, even within the budget', async () => {
    const releaseId = await release(0);
    const result = await evaluateWave(
      { store: db.store },
      {
        releaseId,
        wave: 0,
        maxErrors: 5,
        shardResults: [ok, { shard: 1, error: { Error: 'States.Timeout' } }],
      },
    );
    expect(result.decision).toBe('stop');
    expect(result.reason).toContain('1 shard(s) did not complete (States.Timeout');
  });

  it('stops a release whose cancel was requested, within its budget or not', async () => {
    const releaseId = await release(0);
    await db.store.releases.requestCancel(releaseId, 'wrong map');

    const result = await evaluateWave(
      { store: db.store },
      { releaseId, wave: 0, maxErrors: 0, shardResults: [ok] },
    );

    expect(result).toMatchObject({ decision: 'stop', reason: 'cancelled: wrong map' });
  });
});
