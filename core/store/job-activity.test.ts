import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_BACKENDS, startTestDynamoDb, type TestDynamoDb } from '../../test/helpers/dynamodb.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { LOG_TAIL_LINES } from '../model/index.js';
import { createStore } from './index.js';
import type { NewJob, Store } from './types.js';

const baseJob: NewJob = {
  id: 'job-1',
  parentType: 'action',
  parentId: 'act-1',
  hostId: 'eu-1',
  action: 'install',
  params: {},
};

describe.each(DYNAMODB_BACKENDS)('job activity reports on %s', (backend) => {
  let db: TestDynamoDb;
  /** The same table through a client that counts the calls it sends, by command name. */
  let counted: Store;
  const calls: string[] = [];
  let n = 0;
  const newJob = async () => {
    const job = await db.store.jobs.create({ ...baseJob, id: `job-${++n}` });
    await db.store.jobs.claim(job.id, 'relay-a');
    return job;
  };

  beforeAll(async () => {
    db = await startTestDynamoDb(backend, 'activity');
    const documents = new Proxy(db.documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return (command: { constructor: { name: string } }) => {
          calls.push(command.constructor.name);
          return target.send(command as never);
        };
      },
    }) as DynamoDBDocumentClient;
    counted = createStore({ documents, table: db.table });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('writes progress and log lines in one call once it holds a cursor', async () => {
    const job = await newJob();
    const first = await counted.jobs.recordActivity(job.id, {
      progress: { seq: 1, report: { phase: 'download', bytes: 10, total: 100 } },
      lines: ['fetching'],
    });
    expect(first.ended).toBe(false);
    calls.length = 0;
    const second = await counted.jobs.recordActivity(
      job.id,
      { progress: { seq: 2, report: { phase: 'verify' } }, lines: ['verified'] },
      first.cursor,
    );
    expect(calls).toEqual(['UpdateCommand']);
    expect(second.cursor.logTail).toEqual(['fetching', 'verified']);
    expect(await db.store.jobs.get(job.id)).toMatchObject({
      progress: { phase: 'verify' },
      progressSeq: 2,
      logTail: ['fetching', 'verified'],
    });
  });

  it('loses no line when another writer appended since its cursor', async () => {
    const job = await newJob();
    const { cursor } = await counted.jobs.recordActivity(job.id, { lines: ['a'] });
    await db.store.jobs.appendLog(job.id, ['from the other relay']);
    const after = await counted.jobs.recordActivity(job.id, { lines: ['b'] }, cursor);
    expect(after.cursor.logTail).toEqual(['a', 'from the other relay', 'b']);
    expect((await db.store.jobs.get(job.id)).logTail).toEqual(['a', 'from the other relay', 'b']);
  });

  it('keeps a newer stored progress over a stale report, and still adds its lines', async () => {
    const job = await newJob();
    const { cursor } = await counted.jobs.recordActivity(job.id, {
      progress: { seq: 1, report: { phase: 'download' } },
    });
    await db.store.jobs.reportProgress(job.id, 5, { phase: 'health' });
    await counted.jobs.recordActivity(
      job.id,
      { progress: { seq: 2, report: { phase: 'verify' } }, lines: ['late'] },
      cursor,
    );
    expect(await db.store.jobs.get(job.id)).toMatchObject({
      progress: { phase: 'health' },
      progressSeq: 5,
      logTail: ['late'],
    });
  });

  it('leaves an ended job’s progress alone but adds the last lines, and says it ended', async () => {
    const job = await newJob();
    const { cursor } = await counted.jobs.recordActivity(job.id, { lines: ['started'] });
    await db.store.jobs.transition(job.id, 'succeeded', { result: {} });
    const written = await counted.jobs.recordActivity(
      job.id,
      { progress: { seq: 3, report: { phase: 'health' } }, lines: ['done'] },
      cursor,
    );
    expect(written.ended).toBe(true);
    const stored = await db.store.jobs.get(job.id);
    expect(stored).toMatchObject({ state: 'succeeded', progressSeq: 0, logTail: ['started', 'done'] });
    expect(stored.progress).toBeUndefined();
  });

  it(`keeps only the last ${LOG_TAIL_LINES} lines`, async () => {
    const job = await newJob();
    const lines = Array.from({ length: LOG_TAIL_LINES + 7 }, (_, i) => `line ${i}`);
    const { cursor } = await counted.jobs.recordActivity(job.id, { lines: lines.slice(0, 10) });
    const after = await counted.jobs.recordActivity(job.id, { lines: lines.slice(10) }, cursor);
    expect(after.cursor.logTail).toEqual(lines.slice(-LOG_TAIL_LINES));
    expect((await db.store.jobs.get(job.id)).logTail).toEqual(lines.slice(-LOG_TAIL_LINES));
  });

  it('refuses a bad report and an unknown job with clear errors, writing nothing', async () => {
    const job = await newJob();
    await expect(
      counted.jobs.recordActivity(job.id, { progress: { seq: -1, report: { phase: 'x' } } }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(counted.jobs.recordActivity('no-such-job', { lines: ['x'] })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await db.store.jobs.get(job.id)).toMatchObject({ progressSeq: 0, logTail: [] });
  });
});
