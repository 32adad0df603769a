import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDynamoDb } from '../../test/helpers/dynamodb.js';
import { ConflictError, StateConflictError } from '../errors.js';
import type { Store } from './types.js';

describe('host locks and release cancel/rollback marks on dynalite', () => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await startTestDynamoDb('dynalite', 'host-locks'));
  });
  afterAll(async () => close());

  const release = (id: string) =>
    store.releases.create({
      id,
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { hosts: ['a'] },
      strategy: {},
    });

  it('refuses a host held by a live release, naming both, and gives back what it took', async () => {
    await release('rel-a');
    await release('rel-b');
    await store.hostLocks.acquire('rel-a', ['h2']);

    const refused = store.hostLocks.acquire('rel-b', ['h1', 'h2', 'h3']);

    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toThrow("host 'h2' is busy in release 'rel-a'");
    expect(await store.hostLocks.holder('h1')).toBeUndefined();
    expect(await store.hostLocks.holder('h2')).toBe('rel-a');
  });

  it('lets exactly one of two racing releases take the same hosts', async () => {
    await release('rel-c');
    await release('rel-d');
    const hosts = Array.from({ length: 30 }, (_, i) => `race-${i}`);

    const outcomes = await Promise.allSettled([
      store.hostLocks.acquire('rel-c', hosts),
      store.hostLocks.acquire('rel-d', [...hosts].reverse()),
    ]);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const winner = outcomes[0]?.status === 'fulfilled' ? 'rel-c' : 'rel-d';
    const holders = await Promise.all(hosts.map((h) => store.hostLocks.holder(h)));
    expect(new Set(holders)).toEqual(new Set([winner]));
  });

  it('takes over a lock from an ended release, and frees only its own locks', async () => {
    await release('rel-e');
    await release('rel-f');
    await store.hostLocks.acquire('rel-e', ['t1']);
    await store.releases.transition('rel-e', 'failed', { reason: 'ended without freeing' });

    await store.hostLocks.acquire('rel-f', ['t1']);
    await store.hostLocks.release('rel-e', ['t1']);

    expect(await store.hostLocks.holder('t1')).toBe('rel-f');
    await store.hostLocks.release('rel-f', ['t1']);
    expect(await store.hostLocks.holder('t1')).toBeUndefined();
  });

  it('treats a holder with no record yet as a create in progress, not as ended', async () => {
    await release('rel-j');
    await store.hostLocks.acquire('rel-creating', ['o1']);

    await expect(store.hostLocks.acquire('rel-j', ['o1'])).rejects.toThrow(
      "host 'o1' is busy in release 'rel-creating'",
    );
  });

  it('records a cancel once, moving a waiting release back to running without its token', async () => {
    await release('rel-g');
    await store.releases.transition('rel-g', 'waiting_approval', { approvalToken: 'tok', approvalWave: 1 });

    const first = await store.releases.requestCancel('rel-g', 'wrong build');
    const again = await store.releases.requestCancel('rel-g', 'again');

    expect(first).toMatchObject({
      requested: true,
      before: { state: 'waiting_approval', approvalToken: 'tok' },
    });
    expect(again.requested).toBe(false);
    const stored = await store.releases.get('rel-g');
    expect(stored).toMatchObject({ state: 'running', cancelReason: 'wrong build' });
    expect(stored.approvalToken).toBeUndefined();
    await release('rel-h');
    await expect(store.releases.requestCancel('rel-h', 'x')).rejects.toBeInstanceOf(StateConflictError);
  });

  it('moves an ended release to rolled_back only through an explicit later rollback', async () => {
    await release('rel-i');
    await store.releases.transition('rel-i', 'succeeded');

    await expect(store.releases.transition('rel-i', 'rolled_back')).rejects.toBeInstanceOf(
      StateConflictError,
    );
    await expect(store.releases.transition('rel-i', 'running', {}, ['succeeded'])).rejects.toBeInstanceOf(
      StateConflictError,
    );
    await store.releases.requestRollback('rel-i');
    await expect(store.releases.requestRollback('rel-i')).rejects.toThrow('already being rolled back');
    const moved = await store.releases.transition('rel-i', 'rolled_back', {}, ['succeeded', 'failed']);

    expect(moved.state).toBe('rolled_back');
    await expect(store.releases.requestRollback('rel-i')).rejects.toThrow('is already rolled back');
  });
});
