import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_BACKENDS, startTestDynamoDb, type TestDynamoDb } from '../../test/helpers/dynamodb.js';
import { createDynamoDbClient } from '../aws.js';
import { StateConflictError } from '../errors.js';
import { createStore, type Store } from './index.js';

/**
 * The relay's store sends its conditional single-item writes through a second, low-level client
 * (`updates`, cacheMiddleware on). Those writes must store and return exactly what the document
 * client path does, and refuse what it refuses.
 */
describe.each(DYNAMODB_BACKENDS)(
  'conditional writes through the low-level update client on %s',
  (backend) => {
    let db: TestDynamoDb;
    let updates: ReturnType<typeof createDynamoDbClient>;
    let store: Store;

    beforeAll(async () => {
      db = await startTestDynamoDb(backend, 'write-batch');
      updates = createDynamoDbClient(
        {
          region: 'us-east-1',
          endpoints: { dynamodb: db.endpoint },
          credentials: { accessKeyId: 'gsmlocal', secretAccessKey: 'gsmlocal' },
        },
        { cacheMiddleware: true },
      );
      store = createStore({ documents: db.documents, table: db.table, updates });
    });
    afterAll(async () => {
      updates?.destroy();
      await db?.close();
    });

    const job = (id: string) => ({
      id,
      parentType: 'action' as const,
      parentId: 'act-wb',
      hostId: 'eu-1',
      action: 'status',
      params: {},
    });

    it('claims once, ends with the record the document client reads back, and refuses a second end', async () => {
      // Prepare
      await store.jobs.create(job('wb-1'));
      // Act
      const first = await store.jobs.claim('wb-1', 'relay-a');
      const second = await store.jobs.claim('wb-1', 'relay-b');
      const ended = await store.jobs.transition('wb-1', 'succeeded', {
        result: {
          instances: [{ name: 'main', port: 28960, pid: undefined, query: { players: 3, ok: true } }],
        },
      });
      // Assess
      expect([first, second]).toEqual([true, false]);
      expect(ended).toMatchObject({
        state: 'succeeded',
        result: { instances: [{ name: 'main', port: 28960, query: { players: 3, ok: true } }] },
      });
      expect(await db.store.jobs.get('wb-1')).toEqual(ended);
      await expect(
        store.jobs.transition('wb-1', 'failed', { error: { code: 'E_X', message: 'late' } }),
      ).rejects.toBeInstanceOf(StateConflictError);
      expect((await db.store.jobs.get('wb-1')).state).toBe('succeeded');
    });

    it('many writes at once each get their own answer', async () => {
      // Prepare
      const ids = Array.from({ length: 30 }, (_, i) => `wb-many-${i}`);
      await store.jobs.createMany(ids.map(job));
      // Act
      const claims = await Promise.all(ids.map((id) => store.jobs.claim(id, 'relay-a')));
      const ends = await Promise.all(
        ids.map((id, i) => store.jobs.transition(id, 'succeeded', { result: { i } })),
      );
      // Assess
      expect(claims.every(Boolean)).toBe(true);
      expect(ends.map((e) => e.result)).toEqual(ids.map((_, i) => ({ i })));
    });
  },
);
