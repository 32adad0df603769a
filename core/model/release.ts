import { z } from 'zod';
import { Id, Tags, Timestamp, Version } from './common.js';

export const ReleaseState = z.enum([
  'pending',
  'running',
  'waiting_approval',
  'succeeded',
  'failed',
  'rolled_back',
  'cancelled',
]);
export type ReleaseState = z.infer<typeof ReleaseState>;

export const TERMINAL_RELEASE_STATES: readonly ReleaseState[] = [
  'succeeded',
  'failed',
  'rolled_back',
  'cancelled',
];

export const Target = z.union([
  z.object({ hosts: z.array(Id).min(1).max(5000) }).strict(),
  z.object({ tags: Tags.refine((t) => Object.keys(t).length > 0, 'name at least one tag') }).strict(),
]);
export type Target = z.infer<typeof Target>;

export const Release = z.object({
  id: z.string().min(1),
  game: Id,
  version: Version,
  packageId: z.string(),
  target: Target,
  strategy: z.record(z.string(), z.unknown()),
  state: ReleaseState,
  reason: z.string().optional(),
  executionArn: z.string().optional(),
  counters: z.record(z.string(), z.number()).default({}),
  /** The resolved targets in wave order, set when the workflow plans the release. */
  hostIds: z.array(Id).default([]),
  /** The planned waves (WavePlan without shards), for the API's view of progress. */
  waves: z
    .array(z.object({ index: z.number().int(), kind: z.string(), hostIds: z.array(Id), gate: z.boolean() }))
    .default([]),
  /** While waiting_approval: the task token that approve/reject completes, and the wave it gates. */
  approvalToken: z.string().optional(),
  approvalWave: z.number().int().optional(),
  createdBy: z.string().optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Release = z.infer<typeof Release>;
