import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_BACKENDS, startTestDynamoDb, type TestDynamoDb } from '../../test/helpers/dynamodb.js';
import { ConflictError, NotFoundError, StateConflictError, ValidationError } from '../errors.js';
import type { NewAction } from './types.js';

const baseAction: NewAction = {
  action: 'status',
  target: { tags: { group: 'demo' } },
  createdBy: 'key-1',
};

describe.each(DYNAMODB_BACKENDS)('actions on %s', (backend) => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb(backend, 'actions');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('creates a pending action with SSM defaults and a time-sortable id', async () => {
    const action = await db.store.actions.create(baseAction);

    expect(action).toMatchObject({
      action: 'status',
      state: 'pending',
      params: {},
      hostIds: [],
      strategy: { maxConcurrency: 50, maxErrors: 0, jobTimeoutSec: 300 },
    });
    expect(action.id).toMatch(/^act-\d{14}-[0-9a-z]{8}$/);
    expect(await db.store.actions.get(action.id)).toEqual(action);
  });

  it('keeps a percentage strategy as given', async () => {
    const action = await db.store.actions.create({
      ...baseAction,
      strategy: { maxConcurrency: '25%', maxErrors: '10' },
    });
    expect(action.strategy).toEqual({ maxConcurrency: '25%', maxErrors: 10, jobTimeoutSec: 300 });
  });

  it.each([
    ['an action not in the allow-list', { ...baseAction, action: 'shell' }, 'action'],
    ['an empty host list', { ...baseAction, target: { hosts: [] } }, 'target'],
    ['an empty tag selector', { ...baseAction, target: { tags: {} } }, 'target'],
  ])('refuses %s', async (_label, input, path) => {
    const error = await db.store.actions.create(input as NewAction).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path.split('.')[0])).toContain(path);
  });

  it('refuses a taken id and answers an unknown one with NotFoundError', async () => {
    await db.store.actions.create({ ...baseAction, id: 'act-fixed' });
    await expect(db.store.actions.create({ ...baseAction, id: 'act-fixed' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(db.store.actions.get('act-nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('returns the first action for a repeated Idempotency-Key, per caller', async () => {
    const first = await db.store.actions.create({ ...baseAction, idempotencyKey: 'retry-1' });
    const again = await db.store.actions.create({ ...baseAction, action: 'stop', idempotencyKey: 'retry-1' });
    const other = await db.store.actions.create({
      ...baseAction,
      createdBy: 'key-2',
      idempotencyKey: 'retry-1',
    });

    expect(again).toEqual(first);
    expect(other.id).not.toBe(first.id);
  });

  it('makes one action of concurrent creates with one Idempotency-Key', async () => {
    const made = await Promise.all(
      Array.from({ length: 5 }, () => db.store.actions.create({ ...baseAction, idempotencyKey: 'burst' })),
    );
    expect(new Set(made.map((a) => a.id)).size).toBe(1);
  });

  it('moves forward only, stamping start and end', async () => {
    const { id } = await db.store.actions.create(baseAction);
    const running = await db.store.actions.transition(id, 'running', {
      hostIds: ['h1', 'h2'],
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:gsm-action:x',
    });
    expect(running).toMatchObject({ state: 'running', hostIds: ['h1', 'h2'], startedAt: expect.any(String) });

    const done = await db.store.actions.transition(id, 'failed', {
      reason: '1 of 2 hosts failed',
      counters: { total: 2, succeeded: 1, failed: 1 },
    });
    expect(done).toMatchObject({ state: 'failed', endedAt: expect.any(String) });
    // A retried record task repeats the move: no conflict, nothing changes.
    expect(await db.store.actions.transition(id, 'failed', { reason: 'other' })).toEqual(done);

    const error = await db.store.actions.transition(id, 'running').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateConflictError);
    expect((error as StateConflictError).current).toEqual(done);
  });

  it('honours a `from` guard', async () => {
    const { id } = await db.store.actions.create(baseAction);
    await expect(db.store.actions.transition(id, 'succeeded', {}, ['running'])).rejects.toBeInstanceOf(
      StateConflictError,
    );
    await expect(db.store.actions.transition('act-missing', 'running')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists newest first, in pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await db.store.actions.create({ ...baseAction, id: `act-2099010100000${i}-list` })).id);
    }
    const first = await db.store.actions.list({ limit: 2 });
    const second = await db.store.actions.list({ limit: 50, cursor: first.next });
    const all = [...first.items, ...second.items].map((a) => a.id);
    const times = [...first.items, ...second.items].map((a) => a.createdAt);

    expect(times).toEqual([...times].sort().reverse());
    expect(all).toEqual(expect.arrayContaining(ids));
    expect(second.next).toBeNull();
  });
});
