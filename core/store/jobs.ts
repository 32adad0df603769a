import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { GsmError, NotFoundError, StateConflictError } from '../errors.js';
import {
  allowedPredecessors,
  Id,
  isTerminalJobState,
  Job,
  JobError,
  JobParentType,
  JobProgress,
  type JobState,
  LOG_TAIL_LINES,
  nowIso,
  TERMINAL_JOB_STATES,
  Timestamp,
} from '../model/index.js';
import {
  CONDITION,
  getItem,
  getItems,
  type IndexQuery,
  type Item,
  isConditionFailure,
  mapPage,
  PK_NAME,
  queryPage,
  type StoreContext,
  toRecord,
  validate,
} from './dynamo.js';
import { recordJobActivity } from './job-activity.js';
import { ENTITY, itemKey, jobIndexKeys, jobStateKeys } from './keys.js';
import { TABLE } from './table.js';
import { setFields, stateIn } from './transition.js';
import type { JobStore } from './types.js';
import { WriteBatcher } from './write-batch.js';

const [, BY_PARENT, BY_HOST, BY_STATE] = TABLE.indexes;

const NewJob = z.object({
  id: z.string().min(1).max(128),
  parentType: JobParentType,
  parentId: z.string().min(1).max(128),
  hostId: Id,
  action: z.string().min(1).max(32),
  params: z.record(z.string(), z.unknown()).default({}),
  attempt: z.number().int().min(1).default(1),
});

const ProgressSeq = z.number().int().min(0);

const APPEND_ATTEMPTS = 5;
/** DynamoDB's per-call limit. */
const BATCH_WRITE_MAX = 25;
const BATCH_ATTEMPTS = 8;

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** Unprocessed keys and items are throttling, not failure: sent again after a short, growing pause. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));

const newJobRecord = (input: unknown, now: string): { job: Job; item: Item } => {
  const job: Job = {
    ...validate(NewJob, input, 'job'),
    state: 'queued',
    progressSeq: 0,
    logTail: [],
    createdAt: now,
    updatedAt: now,
  };
  const item: Item = {
    ...job,
    ...itemKey(ENTITY.job, job.id),
    ...jobIndexKeys({ ...job, stateChangedAt: now }),
    logRev: 0,
  };
  return { job, item };
};

export const createJobStore = (ctx: StoreContext): JobStore => {
  // Claims and state moves of many jobs at once (a shard's lanes) share transactions and reads.
  const batcher = new WriteBatcher(ctx);
  const findItem = (id: string) => getItem(ctx, itemKey(ENTITY.job, id));
  const find = async (id: string): Promise<Job | undefined> => {
    const item = await findItem(id);
    return item ? toRecord(Job, item, 'job') : undefined;
  };
  const get = async (id: string): Promise<Job> => {
    const job = await find(id);
    if (!job) throw new NotFoundError('job', id);
    return job;
  };
  const list = async (query: IndexQuery, page = {}) =>
    mapPage(await queryPage(ctx, query, page), (item) => toRecord(Job, item, 'job'));

  return {
    async create(input) {
      const { job, item } = newJobRecord(input, nowIso());
      try {
        await ctx.documents.send(
          new PutCommand({
            TableName: ctx.table,
            Item: item,
            ConditionExpression: CONDITION.notExists,
            ExpressionAttributeNames: PK_NAME,
          }),
        );
        return job;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Idempotent by id: a retried dispatch finds the job it created the first time.
        return get(job.id);
      }
    },
    async createMany(inputs) {
      const now = nowIso();
      const records = inputs.map((input) => newJobRecord(input, now));
      const stored = new Map<string, Job>();
      const ids = [...new Set(records.map((r) => r.job.id))];
      // Batches go out together: a shard of hundreds of jobs costs one round trip, not dozens.
      for (const item of await getItems(
        ctx,
        ids.map((id) => itemKey(ENTITY.job, id)),
      )) {
        const job = toRecord(Job, item, 'job');
        stored.set(job.id, job);
      }
      const missing = new Map<string, Item>();
      for (const { job, item } of records) if (!stored.has(job.id)) missing.set(job.id, item);
      const writeBatch = async (batch: Item[]) => {
        let requests: { PutRequest?: { Item?: Item } }[] | undefined = batch.map((Item) => ({
          PutRequest: { Item },
        }));
        for (let attempt = 0; requests && requests.length > 0; attempt++) {
          if (attempt === BATCH_ATTEMPTS)
            throw new GsmError('E_UNAVAILABLE', 'jobs could not be written; try again');
          if (attempt > 0) await backoff(attempt);
          const out: BatchWriteCommandOutput = await ctx.documents.send(
            new BatchWriteCommand({
              RequestItems: { [ctx.table]: requests as { PutRequest: { Item: Item } }[] },
            }),
          );
          requests = out.UnprocessedItems?.[ctx.table];
        }
      };
      await Promise.all(chunks([...missing.values()], BATCH_WRITE_MAX).map(writeBatch));
      return records.map(({ job }) => stored.get(job.id) ?? job);
    },
    get,
    listByParent: (parentId, page) => list({ index: BY_PARENT, partition: `JOBS#${parentId}` }, page),
    listByHost: (hostId, page) =>
      list({ index: BY_HOST, partition: `JOBS#${hostId}`, newestFirst: true }, page),
    listByState: (state, page) => list({ index: BY_STATE, partition: `JOBS#${state}` }, page),

    async transition(id, to: JobState, fields = {}) {
      const now = nowIso();
      const from = stateIn(allowedPredecessors(to), 'from');
      const extra = setFields({
        error: fields.error === undefined ? undefined : validate(JobError, fields.error, 'job error'),
        result: fields.result,
        endedAt: isTerminalJobState(to) ? now : undefined,
      });
      const sets = ['#state = :to', '#updatedAt = :now', '#g4pk = :g4pk', '#g4sk = :g4sk', ...extra.sets];
      if (fields.startedAt !== undefined) validate(Timestamp, fields.startedAt, 'job start time');
      const started = to === 'running' || fields.startedAt !== undefined;
      if (started) sets.push('#startedAt = if_not_exists(#startedAt, :startedAt)');
      const stateKeys = jobStateKeys(to, now, id);
      const key = itemKey(ENTITY.job, id);
      const written = await batcher.update(
        {
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `${CONDITION.exists} AND ${from.expression}`,
          ExpressionAttributeNames: {
            ...PK_NAME,
            '#state': 'state',
            '#updatedAt': 'updatedAt',
            '#g4pk': BY_STATE.partitionKey,
            '#g4sk': BY_STATE.sortKey,
            ...(started ? { '#startedAt': 'startedAt' } : {}),
            ...extra.names,
          },
          ExpressionAttributeValues: {
            ':to': to,
            ':now': now,
            ':g4pk': stateKeys.gsi4pk,
            ':g4sk': stateKeys.gsi4sk,
            ...(started ? { ':startedAt': to === 'running' ? now : fields.startedAt } : {}),
            ...from.values,
            ...extra.values,
          },
        },
        { returnNew: true },
      );
      if (written.written) {
        // A batched write returns no record: it is read back (in a batch too).
        const item = written.item ?? (await batcher.get(key));
        if (!item) throw new NotFoundError('job', id);
        return toRecord(Job, item, 'job');
      }
      const current = await find(id);
      if (!current) throw new NotFoundError('job', id);
      if (current.state === to) return current;
      throw new StateConflictError<Job>(`job '${id}' cannot move from ${current.state} to ${to}`, current);
    },

    async claim(id, by) {
      const now = nowIso();
      const stateKeys = jobStateKeys('dispatched', now, id);
      const written = await batcher.update({
        Key: itemKey(ENTITY.job, id),
        UpdateExpression:
          'SET #state = :to, #updatedAt = :now, #g4pk = :g4pk, #g4sk = :g4sk, #result = :result',
        ConditionExpression: `${CONDITION.exists} AND #state = :from`,
        ExpressionAttributeNames: {
          ...PK_NAME,
          '#state': 'state',
          '#updatedAt': 'updatedAt',
          '#g4pk': BY_STATE.partitionKey,
          '#g4sk': BY_STATE.sortKey,
          '#result': 'result',
        },
        ExpressionAttributeValues: {
          ':to': 'dispatched',
          ':from': 'queued',
          ':now': now,
          ':g4pk': stateKeys.gsi4pk,
          ':g4sk': stateKeys.gsi4sk,
          ':result': { dispatchedBy: by },
        },
      });
      if (written.written) return true;
      if (!(await findItem(id))) throw new NotFoundError('job', id);
      return false;
    },

    async reportProgress(id, seq, progress) {
      const report = validate(JobProgress, progress, 'job progress');
      validate(ProgressSeq, seq, 'progress sequence');
      const terminal = stateIn(TERMINAL_JOB_STATES, 'end');
      try {
        const out = await ctx.documents.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: itemKey(ENTITY.job, id),
            UpdateExpression: 'SET #progress = :progress, #seq = :seq, #updatedAt = :now',
            ConditionExpression: `${CONDITION.exists} AND #seq < :seq AND NOT (${terminal.expression})`,
            ExpressionAttributeNames: {
              ...PK_NAME,
              '#progress': 'progress',
              '#seq': 'progressSeq',
              '#updatedAt': 'updatedAt',
              '#state': 'state',
            },
            ExpressionAttributeValues: {
              ':progress': report,
              ':seq': seq,
              ':now': nowIso(),
              ...terminal.values,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toRecord(Job, out.Attributes ?? {}, 'job');
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // A stale or late report is expected under retries: what is stored stands.
        return get(id);
      }
    },

    recordActivity: (id, activity, cursor) => recordJobActivity(ctx, id, activity, cursor),

    async appendLog(id, lines) {
      for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
        const item = await findItem(id);
        if (!item) throw new NotFoundError('job', id);
        const job = toRecord(Job, item, 'job');
        if (lines.length === 0) return job;
        const rev = typeof item.logRev === 'number' ? item.logRev : 0;
        const logTail = [...job.logTail, ...lines].slice(-LOG_TAIL_LINES);
        const updatedAt = nowIso();
        try {
          await ctx.documents.send(
            new UpdateCommand({
              TableName: ctx.table,
              Key: itemKey(ENTITY.job, id),
              UpdateExpression: 'SET #logTail = :logTail, #logRev = :next, #updatedAt = :now',
              // Guarded by the log revision read above: two writers never drop each other's lines.
              ConditionExpression: `${CONDITION.exists} AND ${rev === 0 ? '(attribute_not_exists(#logRev) OR #logRev = :rev)' : '#logRev = :rev'}`,
              ExpressionAttributeNames: {
                ...PK_NAME,
                '#logTail': 'logTail',
                '#logRev': 'logRev',
                '#updatedAt': 'updatedAt',
              },
              ExpressionAttributeValues: {
                ':logTail': logTail,
                ':next': rev + 1,
                ':rev': rev,
                ':now': updatedAt,
              },
            }),
          );
          return { ...job, logTail, updatedAt };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      throw new GsmError('E_UNAVAILABLE', `job '${id}' log is too busy to append to; try again`);
    },
  };
};
