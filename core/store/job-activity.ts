import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { GsmError, NotFoundError } from '../errors.js';
import {
  isTerminalJobState,
  Job,
  JobProgress,
  LOG_TAIL_LINES,
  nowIso,
  TERMINAL_JOB_STATES,
} from '../model/index.js';
import {
  CONDITION,
  getItem,
  isConditionFailure,
  PK_NAME,
  type StoreContext,
  toRecord,
  validate,
} from './dynamo.js';
import { ENTITY, itemKey } from './keys.js';
import { stateIn } from './transition.js';
import type { JobActivity, JobActivityCursor, JobActivityWritten } from './types.js';

const ATTEMPTS = 5;

const Activity = z.object({
  progress: z.object({ seq: z.number().int().min(0), report: JobProgress }).optional(),
  lines: z.array(z.string()).optional(),
});

/**
 * A running job's latest progress and new log lines in one conditional UpdateItem. The writer
 * keeps the returned cursor (the log tail and its revision as this write left them), so the next
 * report needs no read first: one store call per report instead of up to three (a progress
 * write, then a read and a write for the log). The record is read only for the first report and
 * after a conflict (another writer moved the log, or a newer progress landed, or the job ended):
 * then the report is merged again, so no log line is lost and no stale progress overwrites a
 * newer one. Progress is applied only while the job is not terminal; log lines always are.
 */
export const recordJobActivity = async (
  ctx: StoreContext,
  id: string,
  activity: JobActivity,
  cursor?: JobActivityCursor,
): Promise<JobActivityWritten> => {
  const input = validate(Activity, activity, 'job activity');
  const lines = input.lines ?? [];
  let progress = input.progress;
  let known = cursor;
  let ended = false;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (!known) {
      const item = await getItem(ctx, itemKey(ENTITY.job, id));
      if (!item) throw new NotFoundError('job', id);
      const job = toRecord(Job, item, 'job');
      known = { logTail: job.logTail, logRev: typeof item.logRev === 'number' ? item.logRev : 0 };
      ended = isTerminalJobState(job.state);
      if (progress && (ended || job.progressSeq >= progress.seq)) progress = undefined;
    }
    if (!progress && lines.length === 0) return { cursor: known, ended };
    const sets = ['#updatedAt = :now'];
    const conditions: string[] = [CONDITION.exists];
    const names: Record<string, string> = { ...PK_NAME, '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':now': nowIso() };
    if (progress) {
      const terminal = stateIn(TERMINAL_JOB_STATES, 'end');
      sets.push('#progress = :progress', '#seq = :seq');
      conditions.push('#seq < :seq', `NOT (${terminal.expression})`);
      Object.assign(names, { '#progress': 'progress', '#seq': 'progressSeq', '#state': 'state' });
      Object.assign(values, { ':progress': progress.report, ':seq': progress.seq, ...terminal.values });
    }
    const tail = lines.length > 0 ? [...known.logTail, ...lines].slice(-LOG_TAIL_LINES) : known.logTail;
    if (lines.length > 0) {
      sets.push('#logTail = :logTail', '#logRev = :nextRev');
      // Records made before the revision existed have none: they count as revision 0.
      conditions.push(
        known.logRev === 0 ? '(attribute_not_exists(#logRev) OR #logRev = :rev)' : '#logRev = :rev',
      );
      Object.assign(names, { '#logTail': 'logTail', '#logRev': 'logRev' });
      Object.assign(values, { ':logTail': tail, ':rev': known.logRev, ':nextRev': known.logRev + 1 });
    }
    try {
      await ctx.documents.send(
        new UpdateCommand({
          TableName: ctx.table,
          Key: itemKey(ENTITY.job, id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return {
        cursor: lines.length > 0 ? { logTail: tail, logRev: known.logRev + 1 } : known,
        ended,
      };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      known = undefined;
    }
  }
  throw new GsmError('E_UNAVAILABLE', `job '${id}' is too busy to report on; try again`);
};
