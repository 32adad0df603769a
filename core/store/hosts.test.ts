import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DYNAMODB_BACKENDS,
  holdRequests,
  startTestDynamoDb,
  type TestDynamoDb,
} from '../../test/helpers/dynamodb.js';
import {
  BadCursorError,
  ConflictError,
  NotFoundError,
  StateConflictError,
  ValidationError,
} from '../errors.js';
import type { HostInput } from '../model/index.js';

const baseHost: HostInput = { id: 'eu-1', address: '10.0.0.1', tags: { region: 'eu' } };

describe.each(DYNAMODB_BACKENDS)('host store on %s', (backend) => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb(backend, 'hosts');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('finds many hosts by id in batches, skipping unknown ids and repeats', async () => {
    // Prepare: more than one BatchGetItem's 100 keys.
    const ids = Array.from({ length: 130 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    for (const id of ids) await db.store.hosts.create({ ...baseHost, id });
    // Act
    const found = await db.store.hosts.findMany([...ids, 'many-missing', ids[0] as string]);
    // Assess
    expect(found.map((h) => h.id).sort()).toEqual(ids);
    expect(found[0]).toMatchObject({ address: '10.0.0.1', tags: { region: 'eu' }, status: 'unknown' });
    expect(await db.store.hosts.findMany([])).toEqual([]);
  });

  it('creates a host with defaults and reads it back', async () => {
    // Act
    const created = await db.store.hosts.create({ ...baseHost, id: 'create-1' });
    const read = await db.store.hosts.get('create-1');

    // Assess
    expect(created).toMatchObject({
      port: 7420,
      role: 'game',
      protocol: 'v2',
      status: 'unknown',
      revision: 1,
    });
    expect(read).toEqual(created);
    expect(Object.keys(read)).not.toContain('pk');
  });

  it('refuses a second host with the same id', async () => {
    await db.store.hosts.create({ ...baseHost, id: 'dup-1' });
    await expect(db.store.hosts.create({ ...baseHost, id: 'dup-1' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses invalid input naming the field', async () => {
    const error = await db.store.hosts
      .create({ ...baseHost, id: 'legacy-1', protocol: 'legacy' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path)).toContain('legacyKey');
  });

  it('keeps the legacy key of a legacy host', async () => {
    await db.store.hosts.create({ ...baseHost, id: 'legacy-2', protocol: 'legacy', legacyKey: 's3cret' });
    expect((await db.store.hosts.get('legacy-2')).legacyKey).toBe('s3cret');
  });

  it('reports unknown hosts as not found, and find() as undefined', async () => {
    await expect(db.store.hosts.get('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(db.store.hosts.find('nope')).resolves.toBeUndefined();
    await expect(db.store.hosts.remove('nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('removes a host', async () => {
    await db.store.hosts.create({ ...baseHost, id: 'gone-1' });
    await db.store.hosts.remove('gone-1');
    await expect(db.store.hosts.get('gone-1')).rejects.toBeInstanceOf(NotFoundError);
  });

  describe('lists', () => {
    let other: TestDynamoDb;
    beforeAll(async () => {
      // A table of its own, so the other tests' hosts do not shift the pages.
      other = await startTestDynamoDb(backend, 'hosts-list');
      for (let i = 0; i < 12; i++) {
        await other.store.hosts.create({
          id: `h-${String(i).padStart(2, '0')}`,
          address: `10.0.1.${i}`,
          role: i === 11 ? 'origin' : 'game',
          tags: { region: i % 3 === 0 ? 'eu' : 'us', tier: i % 2 === 0 ? 'a' : 'b' },
        });
      }
    });
    afterAll(async () => {
      await other?.close();
    });

    it('pages through hosts sorted by id with cursors, null on the last page', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await other.store.hosts.list({ limit: 5, cursor });
        seen.push(...page.items.map((host) => host.id));
        cursor = page.next;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `h-${String(i).padStart(2, '0')}`));
    });

    it('answers next: null when the list fits the page exactly', async () => {
      const page = await other.store.hosts.list({ limit: 12 });
      expect(page.items).toHaveLength(12);
      expect(page.next).toBeNull();
    });

    it('filters by every given tag, filling pages across skipped items', async () => {
      // Prepare: eu = 0,3,6,9; with tier a = 0,6
      const first = await other.store.hosts.list({ tags: { region: 'eu' }, limit: 3 });
      const second = await other.store.hosts.list({ tags: { region: 'eu' }, limit: 3, cursor: first.next });
      const both = await other.store.hosts.list({ tags: { region: 'eu', tier: 'a' } });

      expect(first.items.map((host) => host.id)).toEqual(['h-00', 'h-03', 'h-06']);
      expect(second).toEqual({ items: [expect.objectContaining({ id: 'h-09' })], next: null });
      expect(both.items.map((host) => host.id)).toEqual(['h-00', 'h-06']);
    });

    it('fills a filtered page from many index pages without skipping or repeating', async () => {
      // Prepare: more hosts than one filtered query reads, with a sparse tag.
      const many = await startTestDynamoDb(backend, 'hosts-sparse');
      try {
        const ids = Array.from({ length: 260 }, (_, i) => `s-${String(i).padStart(3, '0')}`);
        for (let i = 0; i < ids.length; i += 26) {
          await Promise.all(
            ids.slice(i, i + 26).map((id, j) =>
              many.store.hosts.create({
                id,
                address: '10.0.2.1',
                tags: (i + j) % 40 === 7 ? { rare: 'yes' } : {},
              }),
            ),
          );
        }

        // Act
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await many.store.hosts.list({ tags: { rare: 'yes' }, limit: 2, cursor });
          seen.push(...page.items.map((host) => host.id));
          cursor = page.next;
        } while (cursor);

        // Assess
        expect(seen).toEqual(ids.filter((_, i) => i % 40 === 7));
      } finally {
        await many.close();
      }
    });

    it('filters by role and returns nothing for an unknown tag', async () => {
      const origins = await other.store.hosts.list({ role: 'origin' });
      const none = await other.store.hosts.list({ tags: { region: 'mars' } });
      expect(origins.items.map((host) => host.id)).toEqual(['h-11']);
      expect(none).toEqual({ items: [], next: null });
    });

    it.each([
      ['garbage', 'not base64 at all!'],
      ['not JSON', Buffer.from('hello').toString('base64url')],
      ['wrong shape', Buffer.from(JSON.stringify({ pk: 'HOST#x' })).toString('base64url')],
      [
        'another list',
        Buffer.from(JSON.stringify({ pk: 'GAME#x', sk: 'GAME', gsi1pk: 'GAME', gsi1sk: 'x' })).toString(
          'base64url',
        ),
      ],
    ])('refuses a bad cursor (%s)', async (_name, cursor) => {
      await expect(other.store.hosts.list({ cursor })).rejects.toBeInstanceOf(BadCursorError);
    });
  });

  describe('updates', () => {
    it('applies a patch and bumps the revision', async () => {
      await db.store.hosts.create({ ...baseHost, id: 'patch-1' });
      const updated = await db.store.hosts.update('patch-1', { tags: { region: 'us' }, port: 7500 });
      expect(updated).toMatchObject({ tags: { region: 'us' }, port: 7500, revision: 2 });
      expect(await db.store.hosts.get('patch-1')).toEqual(updated);
    });

    it('removes the legacy key with null when going back to v2', async () => {
      await db.store.hosts.create({ ...baseHost, id: 'patch-2', protocol: 'legacy', legacyKey: 'k' });
      const updated = await db.store.hosts.update('patch-2', { protocol: 'v2', legacyKey: null });
      expect(updated.legacyKey).toBeUndefined();
      expect((await db.store.hosts.get('patch-2')).legacyKey).toBeUndefined();
    });

    it('refuses a patch that breaks the protocol/key pairing', async () => {
      await db.store.hosts.create({ ...baseHost, id: 'patch-3' });
      await expect(db.store.hosts.update('patch-3', { protocol: 'legacy' })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });

    it('lets exactly one of two concurrent updates at one revision win; the other gets the current host', async () => {
      // Prepare: hold both writes until both updates have read revision 1, so they truly race.
      await db.store.hosts.create({ ...baseHost, id: 'race-1' });
      const release = holdRequests(db.documents, 'PutItemCommand', 2);

      // Act
      const results = await Promise.allSettled([
        db.store.hosts.update('race-1', { tags: { who: 'a' } }, { ifRevision: 1 }),
        db.store.hosts.update('race-1', { tags: { who: 'b' } }, { ifRevision: 1 }),
      ]).finally(release);

      // Assess
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const conflict: unknown = lost[0]?.reason;
      expect(conflict).toBeInstanceOf(StateConflictError);
      const stored = await db.store.hosts.get('race-1');
      expect(stored.revision).toBe(2);
      expect(conflict instanceof StateConflictError && conflict.current).toEqual(stored);
    });

    it('applies an update without ifRevision again over a write that beat it, losing neither', async () => {
      // Prepare: the update has read revision 1; a monitor observation lands before it writes.
      await db.store.hosts.create({ ...baseHost, id: 'race-2' });
      let reachedPut!: () => void;
      const putReached = new Promise<void>((resolve) => {
        reachedPut = resolve;
      });
      let releasePut!: () => void;
      const putHeld = new Promise<void>((resolve) => {
        releasePut = resolve;
      });
      let held = false;
      db.documents.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'PutItemCommand' && !held) {
            held = true;
            reachedPut();
            await putHeld;
          }
          return next(args);
        },
        { step: 'initialize', name: 'hold-first-put' },
      );
      const update = db.store.hosts.update('race-2', { tags: { who: 'a' } });
      await putReached;
      await db.store.hosts.observe('race-2', { status: 'online', agentVersion: '9.9.9' });

      // Act
      releasePut();
      const updated = await update.finally(() => db.documents.middlewareStack.remove('hold-first-put'));

      // Assess
      expect(updated).toMatchObject({
        tags: { who: 'a' },
        status: 'online',
        agentVersion: '9.9.9',
        revision: 3,
      });
      expect(await db.store.hosts.get('race-2')).toEqual(updated);
    });

    it('writes with ifRevision only while the host is at that revision', async () => {
      const created = await db.store.hosts.create({ ...baseHost, id: 'rev-1' });
      await db.store.hosts.observe('rev-1', { status: 'online' });

      const stale = db.store.hosts.update('rev-1', { tags: { who: 'a' } }, { ifRevision: created.revision });

      await expect(stale).rejects.toBeInstanceOf(StateConflictError);
      await expect(stale).rejects.toThrow(`host 'rev-1' is at revision 2, not 1`);
      const current = await db.store.hosts.get('rev-1');
      expect(current.tags).toEqual(baseHost.tags ?? {});
      const fresh = await db.store.hosts.update('rev-1', { tags: { who: 'b' } }, { ifRevision: 2 });
      expect(fresh).toMatchObject({ tags: { who: 'b' }, revision: 3 });
    });

    it('reports an unknown host as not found', async () => {
      await expect(db.store.hosts.update('nope', { port: 1 })).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('observations', () => {
    it('records a newer observation and ignores an older one', async () => {
      await db.store.hosts.create({ ...baseHost, id: 'obs-1' });
      const fresh = await db.store.hosts.observe('obs-1', {
        status: 'online',
        lastSeen: '2030-01-01T00:00:10Z',
        agentVersion: '2.0.0',
        instances: [{ name: 'main', game: 'cod4x', port: 28960, state: 'running', players: 3 }],
      });
      const stale = await db.store.hosts.observe('obs-1', {
        status: 'offline',
        lastSeen: '2030-01-01T00:00:05.000Z',
      });
      const same = await db.store.hosts.observe('obs-1', {
        status: 'offline',
        lastSeen: '2030-01-01T00:00:10.000Z',
      });

      expect(fresh).toMatchObject({ status: 'online', lastSeen: '2030-01-01T00:00:10.000Z', revision: 2 });
      expect(fresh.instances[0]).toMatchObject({ name: 'main', players: 3 });
      expect(stale).toEqual(fresh);
      expect(same).toEqual(fresh);
    });

    it('keeps operator fields when observing', async () => {
      await db.store.hosts.create({ ...baseHost, id: 'obs-2', tags: { region: 'eu', rack: '7' } });
      const observed = await db.store.hosts.observe('obs-2', { status: 'offline' });
      expect(observed).toMatchObject({ status: 'offline', tags: { region: 'eu', rack: '7' } });
      expect(observed.lastSeen).toBeDefined();
    });

    it('reports an unknown host as not found', async () => {
      await expect(db.store.hosts.observe('nope', { status: 'online' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });
});
