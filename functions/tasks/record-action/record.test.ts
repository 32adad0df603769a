import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobState, RecordActionEvent } from '../../../core/model/index.js';
import type { NewAction } from '../../../core/store/types.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { recordAction } from './record.js';

describe('recordAction', () => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'record');
  });
  afterAll(async () => db?.close());

  /** A running action whose jobs are in the given states, host h0, h1, ... */
  const runningAction = async (states: JobState[], input: Partial<NewAction> = {}) => {
    const action = await db.store.actions.create({
      action: 'status',
      target: { tags: { group: 'demo' } },
      ...input,
    });
    await db.store.actions.transition(action.id, 'running');
    for (const [i, state] of states.entries()) {
      const job = await db.store.jobs.create({
        id: `${action.id}.h${i}.status`,
        parentType: 'action',
        parentId: action.id,
        hostId: `h${i}`,
        action: 'status',
      });
      if (state === 'failed') {
        await db.store.jobs.transition(job.id, 'failed', { error: { code: 'E_AGENT', message: 'no' } });
      } else if (state !== 'queued') {
        await db.store.jobs.transition(job.id, state);
      }
    }
    return action.id;
  };
  const record = (event: Partial<RecordActionEvent> & { actionId: string }) =>
    recordAction({ store: db.store }, { shardResults: [], ...event });

  it('succeeds when every host succeeded', async () => {
    const actionId = await runningAction(['succeeded', 'succeeded']);

    const result = await record({
      actionId,
      shardResults: [{ shard: 0, counts: { succeeded: 2, failed: 0, skipped: 0 } }],
    });

    expect(result).toEqual({
      actionId,
      state: 'succeeded',
      counters: { total: 2, succeeded: 2, failed: 0, timedOut: 0, cancelled: 0 },
    });
    expect(await db.store.actions.get(actionId)).toMatchObject({
      state: 'succeeded',
      endedAt: expect.any(String),
    });
  });

  it('fails past maxErrors, naming the hosts not dispatched', async () => {
    const actionId = await runningAction(['failed', 'cancelled', 'cancelled']);

    const result = await record({ actionId });

    expect(result).toMatchObject({
      state: 'failed',
      reason: '1 of 3 hosts failed, more than maxErrors (0) allows; 2 not dispatched',
    });
  });

  it('succeeds within maxErrors, saying how many failed', async () => {
    const actionId = await runningAction(['failed', 'succeeded', 'succeeded'], {
      strategy: { maxErrors: 1 },
    });

    expect(await record({ actionId })).toMatchObject({
      state: 'succeeded',
      reason: '1 of 3 hosts failed, within maxErrors (1)',
    });
  });

  it('times out the jobs a dead shard left open, and fails the action', async () => {
    const actionId = await runningAction(['succeeded', 'running', 'queued'], {
      strategy: { maxErrors: '50%' },
    });

    const result = await record({
      actionId,
      shardResults: [{ shard: 0, error: { Error: 'States.HeartbeatTimeout', Cause: '' } }],
    });

    expect(result).toMatchObject({ state: 'failed', counters: { succeeded: 1, timedOut: 2 } });
    expect(await db.store.jobs.get(`${actionId}.h1.status`)).toMatchObject({
      state: 'timed_out',
      error: { code: 'E_RELAY_FAILED' },
    });
  });

  it('fails the action with the planner’s own message when planning failed', async () => {
    const actionId = await runningAction([]);
    const cause = JSON.stringify({ errorType: 'Error', errorMessage: 'table is gone', trace: [] });

    const result = await record({ actionId, planError: { Error: 'Error', Cause: cause } });

    expect(result).toMatchObject({ state: 'failed', reason: 'planning failed: table is gone' });
  });

  it('leaves an action that already ended as it is (a retried record, or an empty target)', async () => {
    const actionId = await runningAction(['succeeded']);
    const first = await record({ actionId });
    expect(await record({ actionId, planError: { Error: 'X' } })).toEqual(first);
  });
});
