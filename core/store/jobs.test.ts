import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DYNAMODB_BACKENDS,
  holdRequests,
  startTestDynamoDb,
  type TestDynamoDb,
} from '../../test/helpers/dynamodb.js';
import { NotFoundError, StateConflictError } from '../errors.js';
import { type JobState, LOG_TAIL_LINES } from '../model/index.js';
import type { NewJob } from './types.js';

const baseJob: NewJob = {
  id: 'job-1',
  parentType: 'release',
  parentId: 'rel-1',
  hostId: 'eu-1',
  action: 'install',
  params: { version: '1.1.0' },
};

describe.each(DYNAMODB_BACKENDS)('job store on %s', (backend) => {
  let db: TestDynamoDb;
  let n = 0;
  /** A fresh job per test: ids are unique within the file's table. */
  const newJob = (overrides: Partial<NewJob> = {}) =>
    db.store.jobs.create({ ...baseJob, id: `job-${++n}`, ...overrides });

  beforeAll(async () => {
    db = await startTestDynamoDb(backend, 'jobs');
  });
  afterAll(async () => {
    await db?.close();
  });

  describe('create', () => {
    it('queues a job with defaults', async () => {
      const job = await newJob();
      expect(job).toMatchObject({ state: 'queued', progressSeq: 0, attempt: 1, logTail: [] });
      expect(await db.store.jobs.get(job.id)).toEqual(job);
    });

    it('is idempotent by id: a second create returns the stored job unchanged', async () => {
      const first = await newJob();
      await db.store.jobs.transition(first.id, 'dispatched');
      const again = await db.store.jobs.create({ ...baseJob, id: first.id, action: 'other' });
      expect(again).toMatchObject({ id: first.id, action: 'install', state: 'dispatched' });
    });

    it('reports an unknown job as not found', async () => {
      await expect(db.store.jobs.get('nope')).rejects.toBeInstanceOf(NotFoundError);
      await expect(db.store.jobs.transition('nope', 'running')).rejects.toBeInstanceOf(NotFoundError);
      await expect(db.store.jobs.reportProgress('nope', 1, { phase: 'x' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(db.store.jobs.appendLog('nope', ['x'])).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('claim', () => {
    it('moves a queued job to dispatched for exactly one of two claimants', async () => {
      const job = await newJob();
      const wins = await Promise.all([
        db.store.jobs.claim(job.id, 'relay-a'),
        db.store.jobs.claim(job.id, 'relay-b'),
      ]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      const stored = await db.store.jobs.get(job.id);
      expect(stored.state).toBe('dispatched');
      expect(stored.result).toEqual({ dispatchedBy: wins[0] ? 'relay-a' : 'relay-b' });
      expect(await db.store.jobs.claim(job.id, 'relay-a')).toBe(false);
      const page = await db.store.jobs.listByState('dispatched', { limit: 100 });
      expect(page.items.map((j) => j.id)).toContain(job.id);
    });

    it('does not claim a job past queued, and reports an unknown one', async () => {
      const job = await newJob();
      await db.store.jobs.transition(job.id, 'failed', { error: { code: 'E_X', message: 'x' } });
      expect(await db.store.jobs.claim(job.id, 'relay-a')).toBe(false);
      expect((await db.store.jobs.get(job.id)).state).toBe('failed');
      await expect(db.store.jobs.claim('nope', 'relay-a')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('claims and ends many jobs at once, each caller getting its own answer', async () => {
      // Arrange: more jobs than one transaction holds; some already taken by another relay.
      const jobs = await db.store.jobs.createMany(
        Array.from({ length: 130 }, (_, i) => ({
          ...baseJob,
          parentId: 'rel-burst',
          id: `burst-${i}`,
          hostId: `h-${i}`,
        })),
      );
      const taken = new Set(jobs.filter((_, i) => i % 13 === 0).map((j) => j.id));
      for (const id of taken) expect(await db.store.jobs.claim(id, 'relay-x')).toBe(true);

      // Act: every claim in one go, an unknown job among them.
      const claims = await Promise.allSettled([
        ...jobs.map((j) => db.store.jobs.claim(j.id, 'relay-a')),
        db.store.jobs.claim('burst-unknown', 'relay-a'),
      ]);

      // Assert
      const won = jobs.filter((_, i) => claims[i]?.status === 'fulfilled' && claims[i].value === true);
      expect(won.map((j) => j.id)).toEqual(jobs.filter((j) => !taken.has(j.id)).map((j) => j.id));
      expect(claims.slice(0, jobs.length).every((c) => c.status === 'fulfilled')).toBe(true);
      expect(claims.at(-1)).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
      for (const id of taken)
        expect((await db.store.jobs.get(id)).result).toEqual({ dispatchedBy: 'relay-x' });

      // Act: end them all at once; the ones relay-x holds were already failed by it.
      for (const id of taken)
        await db.store.jobs.transition(id, 'failed', { error: { code: 'E_X', message: 'x' } });
      const ends = await Promise.allSettled(
        jobs.map((j, i) => db.store.jobs.transition(j.id, 'succeeded', { result: { n: i } })),
      );

      // Assert: each success carries its own record; each refusal names the stored state.
      ends.forEach((end, i) => {
        const job = jobs[i]!;
        if (taken.has(job.id)) {
          expect(end).toMatchObject({ status: 'rejected', reason: expect.any(StateConflictError) });
          expect((end as PromiseRejectedResult).reason.current.state).toBe('failed');
        } else {
          expect(end).toMatchObject({
            status: 'fulfilled',
            value: { id: job.id, state: 'succeeded', result: { n: i } },
          });
        }
      });
      expect((await db.store.jobs.get('burst-7')).result).toEqual({ n: 7 });
    });
  });

  describe('createMany', () => {
    it('creates more jobs than one batch holds, in input order, readable one by one', async () => {
      const inputs = Array.from({ length: 60 }, (_, i) => ({
        ...baseJob,
        id: `many-${i}`,
        hostId: `h-${i}`,
      }));
      const jobs = await db.store.jobs.createMany(inputs);
      expect(jobs.map((j) => j.id)).toEqual(inputs.map((i) => i.id));
      expect(jobs.every((j) => j.state === 'queued' && j.logTail.length === 0)).toBe(true);
      expect(await db.store.jobs.get('many-59')).toEqual(jobs[59]);
      const page = await db.store.jobs.listByParent(baseJob.parentId, { limit: 100 });
      expect(page.items.filter((j) => j.id.startsWith('many-'))).toHaveLength(60);
    });

    it('returns existing jobs as stored and leaves them untouched', async () => {
      const moved = await newJob();
      await db.store.jobs.transition(moved.id, 'dispatched');
      const [again, fresh] = await db.store.jobs.createMany([
        { ...baseJob, id: moved.id, action: 'other' },
        { ...baseJob, id: 'many-fresh' },
      ]);
      expect(again).toMatchObject({ id: moved.id, action: 'install', state: 'dispatched' });
      expect(fresh).toMatchObject({ id: 'many-fresh', state: 'queued' });
      expect((await db.store.jobs.get(moved.id)).state).toBe('dispatched');
    });

    it('refuses invalid input before writing anything', async () => {
      await expect(
        db.store.jobs.createMany([
          { ...baseJob, id: 'many-ok' },
          { ...baseJob, id: '' },
        ]),
      ).rejects.toMatchObject({ code: 'E_VALIDATION' });
      await expect(db.store.jobs.get('many-ok')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('transitions', () => {
    it('an end state written straight from dispatched keeps the given start time', async () => {
      const job = await newJob();
      await db.store.jobs.transition(job.id, 'dispatched');
      const startedAt = new Date(Date.now() - 1000).toISOString();
      const ended = await db.store.jobs.transition(job.id, 'succeeded', { result: { ok: 1 }, startedAt });
      expect(ended).toMatchObject({ state: 'succeeded', startedAt, result: { ok: 1 } });
      expect(ended.endedAt).toBeDefined();
    });

    it('moves forward and stamps startedAt and endedAt', async () => {
      const job = await newJob();
      const dispatched = await db.store.jobs.transition(job.id, 'dispatched');
      const running = await db.store.jobs.transition(job.id, 'running');
      const done = await db.store.jobs.transition(job.id, 'succeeded', { result: { version: '1.1.0' } });

      expect(dispatched.state).toBe('dispatched');
      expect(dispatched.startedAt).toBeUndefined();
      expect(running.startedAt).toBeDefined();
      expect(done).toMatchObject({
        state: 'succeeded',
        result: { version: '1.1.0' },
        startedAt: running.startedAt,
      });
      expect(done.endedAt).toBeDefined();
    });

    it('records the error of a failed job', async () => {
      const job = await newJob();
      const failed = await db.store.jobs.transition(job.id, 'failed', {
        error: { code: 'E_CHECKSUM', message: 'sha256 mismatch' },
      });
      expect(failed).toMatchObject({ state: 'failed', error: { code: 'E_CHECKSUM' } });
    });

    it('treats a repeat of the current state as a no-op', async () => {
      const job = await newJob();
      const running = await db.store.jobs.transition(job.id, 'running');
      const again = await db.store.jobs.transition(job.id, 'running');
      expect(again).toEqual(running);
    });

    it.each<[JobState[], JobState]>([
      [['running'], 'dispatched'],
      [['running'], 'queued'],
      [['succeeded'], 'running'],
      [['failed'], 'succeeded'],
      [['cancelled'], 'timed_out'],
    ])('never moves back: after %j, %s is a StateConflictError carrying the job', async (path, to) => {
      const job = await newJob();
      for (const state of path) await db.store.jobs.transition(job.id, state);
      const error = await db.store.jobs.transition(job.id, to).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateConflictError);
      const current = (error as StateConflictError).current;
      expect(current).toMatchObject({ id: job.id, state: path.at(-1) });
      expect((await db.store.jobs.get(job.id)).state).toBe(path.at(-1));
    });

    it('lets exactly one of two concurrent terminal transitions win', async () => {
      const job = await newJob();
      await db.store.jobs.transition(job.id, 'running');
      const results = await Promise.allSettled([
        db.store.jobs.transition(job.id, 'succeeded'),
        db.store.jobs.transition(job.id, 'failed', { error: { code: 'E_X', message: 'x' } }),
      ]);
      const stored = await db.store.jobs.get(job.id);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toBeInstanceOf(StateConflictError);
      expect(won[0]?.status === 'fulfilled' && won[0].value).toEqual(stored);
    });

    it('lets a stale "running" lose to a finished job without moving it back', async () => {
      const job = await newJob();
      await db.store.jobs.transition(job.id, 'succeeded');
      await expect(db.store.jobs.transition(job.id, 'running')).rejects.toBeInstanceOf(StateConflictError);
      expect((await db.store.jobs.get(job.id)).state).toBe('succeeded');
    });
  });

  describe('progress', () => {
    it('applies newer reports and ignores stale or duplicate ones', async () => {
      const job = await newJob();
      await db.store.jobs.transition(job.id, 'running');
      const second = await db.store.jobs.reportProgress(job.id, 2, {
        phase: 'download',
        bytes: 20,
        total: 100,
      });
      const stale = await db.store.jobs.reportProgress(job.id, 1, {
        phase: 'download',
        bytes: 10,
        total: 100,
      });
      const duplicate = await db.store.jobs.reportProgress(job.id, 2, { phase: 'extract' });

      expect(second).toMatchObject({ progressSeq: 2, progress: { phase: 'download', bytes: 20 } });
      expect(stale).toEqual(second);
      expect(duplicate).toEqual(second);
    });

    it('ignores reports once the job is terminal', async () => {
      const job = await newJob();
      await db.store.jobs.reportProgress(job.id, 1, { phase: 'download' });
      const done = await db.store.jobs.transition(job.id, 'succeeded');
      const late = await db.store.jobs.reportProgress(job.id, 5, { phase: 'late' });
      expect(late).toEqual(done);
    });
  });

  describe('log tail', () => {
    it(`keeps the last ${LOG_TAIL_LINES} lines`, async () => {
      const job = await newJob();
      const lines = Array.from({ length: LOG_TAIL_LINES + 10 }, (_, i) => `line ${i}`);
      await db.store.jobs.appendLog(job.id, lines.slice(0, 30));
      const after = await db.store.jobs.appendLog(job.id, lines.slice(30));
      expect(after.logTail).toEqual(lines.slice(-LOG_TAIL_LINES));
      expect((await db.store.jobs.get(job.id)).logTail).toEqual(after.logTail);
    });

    it('loses no lines when appends race', async () => {
      const job = await newJob();
      const release = holdRequests(db.documents, 'UpdateItemCommand', 3);
      await Promise.all(['a', 'b', 'c'].map((line) => db.store.jobs.appendLog(job.id, [line]))).finally(
        release,
      );
      const stored = await db.store.jobs.get(job.id);
      expect([...stored.logTail].sort()).toEqual(['a', 'b', 'c']);
    });
  });

  describe('lists', () => {
    let other: TestDynamoDb;
    beforeAll(async () => {
      other = await startTestDynamoDb(backend, 'jobs-list');
      for (const [id, parentId, hostId] of [
        ['j-1', 'rel-a', 'h-2'],
        ['j-2', 'rel-a', 'h-1'],
        ['j-3', 'rel-a', 'h-3'],
        ['j-4', 'act-b', 'h-1'],
      ] as const) {
        await other.store.jobs.create({ ...baseJob, id, parentId, hostId });
      }
      await other.store.jobs.transition('j-2', 'running');
      await other.store.jobs.transition('j-4', 'running');
    });
    afterAll(async () => {
      await other?.close();
    });

    it('lists a release or action by host id, with cursors', async () => {
      const first = await other.store.jobs.listByParent('rel-a', { limit: 2 });
      const rest = await other.store.jobs.listByParent('rel-a', { limit: 2, cursor: first.next });
      expect(first.items.map((job) => job.hostId)).toEqual(['h-1', 'h-2']);
      expect(rest).toEqual({ items: [expect.objectContaining({ hostId: 'h-3' })], next: null });
    });

    it("lists a host's jobs newest first", async () => {
      const page = await other.store.jobs.listByHost('h-1');
      expect(page.items.map((job) => job.id)).toEqual(['j-4', 'j-2']);
    });

    it('lists jobs by their current state only', async () => {
      const running = await other.store.jobs.listByState('running');
      const queued = await other.store.jobs.listByState('queued');
      expect(running.items.map((job) => job.id)).toEqual(['j-2', 'j-4']);
      expect(queued.items.map((job) => job.id).sort()).toEqual(['j-1', 'j-3']);
    });
  });
});
