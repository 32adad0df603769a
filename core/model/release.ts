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
  createdBy: z.string().optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Release = z.infer<typeof Release>;
