import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_BACKENDS, startTestDynamoDb, type TestDynamoDb } from '../../test/helpers/dynamodb.js';
import {
  BadCursorError,
  ConflictError,
  NotFoundError,
  StateConflictError,
  ValidationError,
} from '../errors.js';
import type { NewPackage, NewRelease } from './types.js';

const basePackage: NewPackage = {
  game: 'cod4x',
  version: '1.1.0',
  fileName: 'cod4x-1.1.0.tar.bz2',
  size: 1024,
  s3Key: 'packages/cod4x/1.1.0/cod4x-1.1.0.tar.bz2',
};

const baseRelease: NewRelease = {
  game: 'cod4x',
  version: '1.1.0',
  packageId: 'cod4x@1.1.0',
  target: { tags: { region: 'eu' } },
  strategy: { waves: [1, 10] },
};

describe.each(DYNAMODB_BACKENDS)('games, origins, packages and releases on %s', (backend) => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb(backend, 'catalog');
  });
  afterAll(async () => {
    await db?.close();
  });

  describe('games', () => {
    it('creates, lists, refuses duplicates and removes', async () => {
      const game = await db.store.games.create({
        name: 'cod4x',
        queryProtocol: 'quake3',
        defaultPort: 28960,
      });
      await db.store.games.create({ name: 'ut99', queryProtocol: 'gamespy1', defaultPort: 7777 });

      expect(game).toMatchObject({
        maxPlayers: 32,
        stop: { kind: 'signal', signal: 'SIGTERM' },
        stopGraceSec: 30,
      });
      expect(await db.store.games.get('cod4x')).toEqual(game);
      expect((await db.store.games.list()).items.map((g) => g.name)).toEqual(['cod4x', 'ut99']);
      await expect(
        db.store.games.create({ name: 'cod4x', queryProtocol: 'quake3', defaultPort: 1 }),
      ).rejects.toBeInstanceOf(ConflictError);
      await db.store.games.remove('ut99');
      await expect(db.store.games.get('ut99')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('origins', () => {
    it('creates, gets, lists and removes', async () => {
      const origin = await db.store.origins.create({
        id: 'mirror-eu1',
        baseUrl: 'https://mirror-eu1.example.net/gsm',
        hostId: 'origin-eu1',
      });
      expect(await db.store.origins.get('mirror-eu1')).toEqual(origin);
      expect((await db.store.origins.list()).items).toEqual([origin]);
      await expect(db.store.origins.create({ ...origin })).rejects.toBeInstanceOf(ConflictError);
      await expect(
        db.store.origins.create({ id: 'bad', baseUrl: 'ftp://x', hostId: 'h' }),
      ).rejects.toBeInstanceOf(ValidationError);
      await db.store.origins.remove('mirror-eu1');
      await expect(db.store.origins.get('mirror-eu1')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('packages', () => {
    it('is keyed game@version and refuses a second upload of the same version', async () => {
      const pkg = await db.store.packages.create(basePackage);
      expect(pkg).toMatchObject({ id: 'cod4x@1.1.0', state: 'uploading', origins: [] });
      expect(await db.store.packages.get('cod4x@1.1.0')).toEqual(pkg);
      await expect(db.store.packages.create(basePackage)).rejects.toBeInstanceOf(ConflictError);
    });

    it('lists by game and by game and version', async () => {
      await db.store.packages.create({ ...basePackage, version: '1.2.0' });
      await db.store.packages.create({ ...basePackage, game: 'cod4xx', version: '9.0.0' });

      const cod4x = await db.store.packages.list({ game: 'cod4x' });
      const exact = await db.store.packages.list({ game: 'cod4x', version: '1.2.0' });
      const all = await db.store.packages.list();

      expect(cod4x.items.map((p) => p.id)).toEqual(['cod4x@1.1.0', 'cod4x@1.2.0']);
      expect(exact.items.map((p) => p.id)).toEqual(['cod4x@1.2.0']);
      expect(all.items).toHaveLength(3);
      await expect(db.store.packages.list({ version: '1.2.0' })).rejects.toBeInstanceOf(ValidationError);
      const page = await db.store.packages.list({ limit: 1 });
      await expect(db.store.packages.list({ game: 'cod4xx', cursor: page.next })).rejects.toBeInstanceOf(
        BadCursorError,
      );
    });

    it('moves along its transitions only, keeping a duplicate move harmless', async () => {
      const pkg = await db.store.packages.create({ ...basePackage, version: '2.0.0' });
      const verifying = await db.store.packages.transition(pkg.id, 'verifying');
      const verified = await db.store.packages.transition(pkg.id, 'verified', { sha256: 'a'.repeat(64) });
      const duplicate = await db.store.packages.transition(pkg.id, 'verified');
      const back = await db.store.packages.transition(pkg.id, 'uploading').catch((e: unknown) => e);

      expect(verifying.state).toBe('verifying');
      expect(verified).toMatchObject({ state: 'verified', sha256: 'a'.repeat(64) });
      expect(duplicate).toEqual(verified);
      expect(back).toBeInstanceOf(StateConflictError);
      expect((back as StateConflictError).current).toEqual(verified);
    });

    it('never leaves rejected', async () => {
      const pkg = await db.store.packages.create({ ...basePackage, version: '3.0.0' });
      await db.store.packages.transition(pkg.id, 'rejected', { reason: 'sha256 mismatch' });
      await expect(db.store.packages.transition(pkg.id, 'verifying')).rejects.toBeInstanceOf(
        StateConflictError,
      );
      expect(await db.store.packages.get(pkg.id)).toMatchObject({
        state: 'rejected',
        reason: 'sha256 mismatch',
      });
      await expect(db.store.packages.transition('nope@1', 'verifying')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('gives the verification to one intake execution, and moves for the others only while nobody holds it', async () => {
      const pkg = await db.store.packages.create({ ...basePackage, version: '3.5.0', state: 'verifying' });
      // Unclaimed: a guarded move is allowed (the claim is the fence, not a precondition).
      const unclaimed = await db.store.packages.create({
        ...basePackage,
        version: '3.6.0',
        state: 'verifying',
      });
      const first = await db.store.packages.claimVerification(pkg.id, 'intake-a');
      const again = await db.store.packages.claimVerification(pkg.id, 'intake-a');
      const other = await db.store.packages.claimVerification(pkg.id, 'intake-b');
      const byOther = await db.store.packages
        .transition(pkg.id, 'rejected', { reason: 'b' }, { verifier: 'intake-b' })
        .catch((e: unknown) => e);

      expect(first).toMatchObject({ claimed: true, pkg: { verifyingExecution: 'intake-a' } });
      expect(again.claimed).toBe(true);
      expect(other).toMatchObject({
        claimed: false,
        pkg: { state: 'verifying', verifyingExecution: 'intake-a' },
      });
      expect(byOther).toBeInstanceOf(StateConflictError);
      expect((byOther as Error).message).toBe(`package '${pkg.id}' is being verified by intake intake-a`);
      expect(
        await db.store.packages.transition(pkg.id, 'verified', {}, { verifier: 'intake-a' }),
      ).toMatchObject({
        state: 'verified',
      });
      // Once it has left verifying, nobody can claim it.
      expect(await db.store.packages.claimVerification(pkg.id, 'intake-a')).toMatchObject({
        claimed: false,
        pkg: { state: 'verified' },
      });
      expect(
        await db.store.packages.transition(
          unclaimed.id,
          'rejected',
          { reason: 'x' },
          { verifier: 'intake-c' },
        ),
      ).toMatchObject({ state: 'rejected', reason: 'x' });
      await expect(db.store.packages.claimVerification('nope@1', 'intake-a')).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('records what auto-release did without a state change, refusing a bad outcome and an unknown package', async () => {
      const pkg = await db.store.packages.create({ ...basePackage, version: '4.0.0' });
      const at = '2026-01-01T00:00:00.000Z';

      const refused = await db.store.packages.setAutoRelease(pkg.id, { refused: 'host busy', at });
      const started = await db.store.packages.setAutoRelease(pkg.id, { releaseId: 'auto-1', at });

      expect(refused).toMatchObject({ state: 'uploading', autoRelease: { refused: 'host busy', at } });
      expect((await db.store.packages.get(pkg.id)).autoRelease).toEqual(started.autoRelease);
      expect(started.autoRelease).toEqual({ releaseId: 'auto-1', at });
      await expect(
        db.store.packages.setAutoRelease(pkg.id, { refused: '', at } as never),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(db.store.packages.setAutoRelease('nope@1', { refused: 'x', at })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  describe('releases', () => {
    it('generates time-ordered ids and lists newest first with cursors', async () => {
      const created = [];
      for (let i = 0; i < 3; i++) {
        created.push(await db.store.releases.create(baseRelease));
        // Releases made in the same millisecond have no defined order between them.
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      const first = await db.store.releases.list({ limit: 2 });
      const rest = await db.store.releases.list({ limit: 2, cursor: first.next });

      expect(created[0]?.id).toMatch(/^rel-\d{14}-[0-9a-z]{8}$/);
      expect(created[0]).toMatchObject({ state: 'pending', counters: {} });
      expect([...first.items, ...rest.items].map((r) => r.id)).toEqual(created.map((r) => r.id).reverse());
      expect(rest.next).toBeNull();
    });

    it('keeps a given id unique', async () => {
      await db.store.releases.create({ ...baseRelease, id: 'rel-fixed' });
      await expect(db.store.releases.create({ ...baseRelease, id: 'rel-fixed' })).rejects.toBeInstanceOf(
        ConflictError,
      );
    });

    it('moves only from the given states and never out of a terminal one', async () => {
      const release = await db.store.releases.create(baseRelease);
      const running = await db.store.releases.transition(release.id, 'running', { executionArn: 'arn:x' }, [
        'pending',
      ]);
      const wrongFrom = await db.store.releases
        .transition(release.id, 'waiting_approval', {}, ['pending'])
        .catch((e: unknown) => e);
      const done = await db.store.releases.transition(release.id, 'succeeded', {
        counters: { succeeded: 10 },
      });
      const again = await db.store.releases.transition(release.id, 'succeeded');
      const out = await db.store.releases.transition(release.id, 'running').catch((e: unknown) => e);

      expect(running).toMatchObject({ state: 'running', executionArn: 'arn:x' });
      expect(wrongFrom).toBeInstanceOf(StateConflictError);
      expect(done).toMatchObject({ state: 'succeeded', counters: { succeeded: 10 } });
      expect(again).toEqual(done);
      expect(out).toBeInstanceOf(StateConflictError);
      expect((out as StateConflictError).current).toEqual(done);
    });

    it('withdraws a later rollback with its reason, keeping the state; a new request clears the reason', async () => {
      const release = await db.store.releases.create({ ...baseRelease, id: 'rel-withdraw' });
      await db.store.releases.transition(release.id, 'succeeded');
      const first = await db.store.releases.requestRollback(release.id);

      const withdrawn = await db.store.releases.endRollback(release.id, 'the rollback failed: boom');
      const repeated = await db.store.releases.endRollback(release.id, 'another reason');
      const second = await db.store.releases.requestRollback(release.id);

      expect(first.rollbackAttempts).toBe(1);
      expect(withdrawn).toMatchObject({ state: 'succeeded', rollbackFailure: 'the rollback failed: boom' });
      expect(withdrawn.rollbackRequestedAt).toBeUndefined();
      expect(repeated.rollbackFailure).toBe('the rollback failed: boom');
      expect(second.rollbackAttempts).toBe(2);
      expect(second.rollbackFailure).toBeUndefined();
      await expect(db.store.releases.endRollback('rel-none')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('reports an unknown release as not found', async () => {
      await expect(db.store.releases.get('nope')).rejects.toBeInstanceOf(NotFoundError);
      await expect(db.store.releases.transition('nope', 'running')).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
