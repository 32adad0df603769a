import { z } from 'zod';
import { Id, Timestamp } from './common.js';

export const JobState = z.enum([
  'queued',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
]);
export type JobState = z.infer<typeof JobState>;

export const TERMINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'timed_out', 'cancelled'];

/**
 * Job states only move forward. The store turns this table into the condition of every
 * state write, so a retried or duplicated update can never move a job backwards.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['dispatched', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'],
  dispatched: ['running', 'succeeded', 'failed', 'timed_out', 'cancelled'],
  running: ['succeeded', 'failed', 'timed_out', 'cancelled'],
  succeeded: [],
  failed: [],
  timed_out: [],
  cancelled: [],
};

/** The states a job may be in for a move to `to` to be legal. */
export const allowedPredecessors = (to: JobState): JobState[] =>
  JobState.options.filter((from) => JOB_TRANSITIONS[from].includes(to));

export const isTerminalJobState = (state: JobState): boolean => TERMINAL_JOB_STATES.includes(state);

/** `package`: the stage jobs that copy a package to the download origins. */
export const JobParentType = z.enum(['release', 'action', 'package']);

export const JobProgress = z.object({
  phase: z.string().max(64),
  bytes: z.number().int().min(0).optional(),
  total: z.number().int().min(0).optional(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobError = z.object({ code: z.string().max(64), message: z.string().max(2000) });
export type JobError = z.infer<typeof JobError>;

export const LOG_TAIL_LINES = 50;

export const Job = z.object({
  id: z.string().min(1),
  parentType: JobParentType,
  parentId: z.string().min(1),
  hostId: Id,
  action: z.string().min(1).max(32),
  params: z.record(z.string(), z.unknown()).default({}),
  state: JobState,
  progress: JobProgress.optional(),
  /** Monotonic counter of progress reports: an older report never overwrites a newer one. */
  progressSeq: z.number().int().min(0).default(0),
  attempt: z.number().int().min(1).default(1),
  result: z.record(z.string(), z.unknown()).optional(),
  error: JobError.optional(),
  logTail: z.array(z.string()).default([]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  startedAt: Timestamp.optional(),
  endedAt: Timestamp.optional(),
});
export type Job = z.infer<typeof Job>;
