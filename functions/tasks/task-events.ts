import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { describeIssues, issuesOf } from '../../core/field-issues.js';
import {
  AwaitApprovalEvent,
  EvaluateWaveEvent,
  FinalizeReleaseEvent,
  IntakeInput,
  PlanActionEvent,
  PlanReleaseEvent,
  PlanRollbackEvent,
  RecordActionEvent,
} from '../../core/model/index.js';

/**
 * What each workflow task function accepts, by function name. A task is only ever called by
 * its state machine, so a malformed event is a defect in a definition (or an execution started
 * by an older one), not user input: it fails the state at once with a `ValidationError` that
 * names the function and each bad field, instead of a TypeError somewhere inside the task.
 */
const ExecutionName = z.string().min(1).max(80);

export const TASK_EVENTS = {
  'gsm-plan-action': PlanActionEvent,
  'gsm-record-action': RecordActionEvent,
  'gsm-intake-register': IntakeInput.extend({ hashWaitOver: z.boolean().optional() }),
  'gsm-verify-package': z.object({
    packageId: z.string().min(1),
    executionName: ExecutionName.optional(),
    failure: z.string().max(2000).optional(),
  }),
  'gsm-plan-staging': z.object({
    packageId: z.string().min(1),
    executionName: ExecutionName,
    attempt: z.number().int().min(1).default(1),
  }),
  'gsm-verify-origins': z.object({
    plan: z.object({
      packageId: z.string().min(1),
      executionName: ExecutionName,
      attempt: z.number().int().min(1),
      done: z.boolean(),
      shards: z.array(z.unknown()),
      originIds: z.array(z.string()),
      failures: z.record(z.string(), z.string()),
      verifiedIds: z.array(z.string()),
    }),
    results: z.array(z.unknown()).default([]),
  }),
  /** The same function, from the intake's AbandonStaging state. */
  'gsm-verify-origins/abandon': z.object({
    abandon: z.object({
      packageId: z.string().min(1),
      executionName: ExecutionName,
      error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }),
    }),
  }),
  'gsm-auto-release': z.object({ packageId: z.string().min(1) }),
  'gsm-plan-release': PlanReleaseEvent,
  'gsm-await-approval': AwaitApprovalEvent,
  'gsm-evaluate-wave': EvaluateWaveEvent,
  'gsm-plan-rollback': PlanRollbackEvent,
  'gsm-finalize-release': FinalizeReleaseEvent,
} as const satisfies Readonly<Record<string, z.ZodType>>;

export type TaskName = keyof typeof TASK_EVENTS;
export type TaskEvent<T extends TaskName> = z.output<(typeof TASK_EVENTS)[T]>;

export const parseTaskEvent = <T extends TaskName>(task: T, event: unknown): TaskEvent<T> => {
  const parsed = TASK_EVENTS[task].safeParse(event);
  if (parsed.success) return parsed.data as TaskEvent<T>;
  throw new ValidationError(
    `${task}: malformed event: ${describeIssues(parsed.error, '(event)')}`,
    issuesOf(parsed.error, '(event)'),
  );
};
