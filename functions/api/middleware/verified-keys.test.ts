import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnauthorizedError } from '../../../core/errors.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { createVerifiedKeyCache } from './verified-keys.js';

describe('verified API key cache (dynalite)', () => {
  let db: TestDynamoDb;
  let clock = 0;
  let storeReads = 0;
  const counting = () => ({
    verify: (token: string) => {
      storeReads += 1;
      return db.store.apiKeys.verify(token);
    },
  });

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'verified-keys');
  });
  afterAll(async () => {
    await db?.close();
  });

  const fresh = () => {
    storeReads = 0;
    clock = 1_000;
    return createVerifiedKeyCache(counting(), { ttlMs: 5_000, now: () => clock });
  };

  it('reads a key once while fresh, and again after its time', async () => {
    const cache = fresh();
    const { key, info } = await db.store.apiKeys.create({ name: 'viewer', role: 'viewer' });

    const first = await cache.verify(key);
    clock += 4_999;
    const second = await cache.verify(key);
    clock += 2;
    await cache.verify(key);

    expect(first.id).toBe(info.id);
    expect(second).toEqual(first);
    expect(storeReads).toBe(2);
  });

  it('never remembers a refusal: a wrong secret for a cached id is refused every time', async () => {
    const cache = fresh();
    const { key } = await db.store.apiKeys.create({ name: 'ops', role: 'operator' });
    await cache.verify(key);
    const wrong = `${key.slice(0, 17)}${key.slice(17).split('').reverse().join('')}`;

    await expect(cache.verify(wrong)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(cache.verify(wrong)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(storeReads).toBe(3);
  });

  it('forgets a revoked key at once', async () => {
    const cache = fresh();
    const { key, info } = await db.store.apiKeys.create({ name: 'old', role: 'admin' });
    await cache.verify(key);

    await db.store.apiKeys.revoke(info.id);
    cache.forget(info.id);

    await expect(cache.verify(key)).rejects.toThrow(/revoked/);
  });

  it('keeps at most maxEntries keys, dropping the oldest', async () => {
    storeReads = 0;
    const cache = createVerifiedKeyCache(counting(), { ttlMs: 60_000, maxEntries: 2, now: () => 0 });
    const keys = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => (await db.store.apiKeys.create({ name, role: 'viewer' })).key),
    );

    for (const key of keys) await cache.verify(key);
    await cache.verify(keys[2] as string);
    await cache.verify(keys[0] as string);

    expect(storeReads).toBe(4);
  });
});
