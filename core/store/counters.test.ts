import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_BACKENDS, startTestDynamoDb } from '../../test/helpers/dynamodb.js';
import { ValidationError } from '../errors.js';
import type { Store } from './types.js';

describe.each(DYNAMODB_BACKENDS)('counters on %s', (backend) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await startTestDynamoDb(backend, 'counters'));
  });
  afterAll(async () => close());

  it('starts empty and adds atomically', async () => {
    expect(await store.counters.get('act-1')).toEqual({});
    expect(await store.counters.add('act-1', { succeeded: 1 })).toEqual({ succeeded: 1 });
    expect(await store.counters.add('act-1', { succeeded: 2, failed: 1 })).toEqual({
      succeeded: 3,
      failed: 1,
    });
  });

  it('loses no increment when many writers add at once', async () => {
    await Promise.all(Array.from({ length: 25 }, () => store.counters.add('act-race', { failed: 1 })));
    expect(await store.counters.get('act-race')).toEqual({ failed: 25 });
  });

  it('refuses odd names and fractional deltas', async () => {
    await expect(store.counters.add('act-2', { 'bad name': 1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.counters.add('act-2', { failed: 0.5 })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.counters.add('act-2', {})).rejects.toBeInstanceOf(ValidationError);
  });
});
