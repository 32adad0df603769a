import { createRoute, z } from '@hono/zod-openapi';
import { GsmError } from '../../../core/errors.js';
import {
  Action,
  ActionName,
  ActionParams,
  CountOrPercent,
  Job,
  type JobState,
  Target,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { startActionExecution } from '../action-execution.js';
import type { ApiWorkflows } from '../env.js';
import { requireRole } from '../middleware/auth.js';
import { router } from '../router.js';
import { IdParam, jsonBody, ok, PageQuery, pageOf, problems } from '../schemas.js';

export const ActionRequest = z
  .object({
    action: ActionName,
    target: Target,
    params: ActionParams.optional(),
    strategy: z
      .object({
        maxConcurrency: CountOrPercent.optional(),
        maxErrors: CountOrPercent.optional(),
        jobTimeoutSec: z.number().int().min(1).max(86_400).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const JobProgressCounts = z.record(z.string(), z.number());

/** An action with every host job and how many are in each state (a live view while it runs). */
export const ActionDetail = Action.extend({ jobs: z.array(Job), progress: JobProgressCounts });
export type ActionDetail = z.infer<typeof ActionDetail>;

const IdempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({
    description: 'a retry with the same key returns the first action instead of starting another',
  }),
});

const startAction = createRoute({
  method: 'post',
  path: '/',
  summary: 'Run an action (start, stop, restart, status, ...) on hosts by id or tags',
  middleware: [requireRole('operator')] as const,
  request: { headers: IdempotencyHeader, ...jsonBody(ActionRequest) },
  responses: { 202: ok(Action, 'accepted: the workflow runs it'), ...problems(400, 401, 403, 409, 413) },
});

const listActions = createRoute({
  method: 'get',
  path: '/',
  summary: 'List actions, newest first',
  request: { query: PageQuery },
  responses: { 200: ok(pageOf(Action)), ...problems(400, 401) },
});

const getAction = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One action, with its host jobs and their progress',
  request: { params: IdParam },
  responses: { 200: ok(ActionDetail), ...problems(401, 404) },
});

const allJobs = async (store: Store, parentId: string): Promise<Job[]> => {
  const jobs: Job[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.jobs.listByParent(parentId, { limit: 500, cursor });
    jobs.push(...page.items);
    cursor = page.next;
  } while (cursor !== null);
  return jobs;
};

const progressOf = (jobs: readonly Job[]): Record<string, number> => {
  const progress: Partial<Record<JobState | 'total', number>> = { total: jobs.length };
  for (const job of jobs) progress[job.state] = (progress[job.state] ?? 0) + 1;
  return progress;
};

export const actionRoutes = (store: Store, workflows: ApiWorkflows | undefined) =>
  router()
    .openapi(startAction, async (c) => {
      const stateMachineArn = workflows?.stateMachines.action;
      if (!workflows || !stateMachineArn) {
        throw new GsmError(
          'E_UNAVAILABLE',
          'the action workflow is not deployed here (GSM_STATE_MACHINE_ACTION)',
        );
      }
      const idempotencyKey = c.req.valid('header')['idempotency-key'];
      const action = await store.actions.create({
        ...c.req.valid('json'),
        createdBy: c.get('apiKey').id,
        idempotencyKey,
      });
      // A replayed request whose action already started has nothing more to do.
      if (action.state !== 'pending') return c.json(action, 202);
      try {
        await startActionExecution(workflows.sfn, stateMachineArn, action.id);
      } catch (error) {
        // With a key, the client's retry starts it; without one, nothing ever would.
        if (idempotencyKey === undefined) {
          await store.actions.transition(action.id, 'failed', {
            reason: 'the action workflow could not be started',
          });
        }
        throw new GsmError('E_UNAVAILABLE', 'the action workflow could not be started; try again', {
          cause: error,
        });
      }
      c.get('logger').info({ actionId: action.id, action: action.action }, 'action started');
      return c.json(action, 202);
    })
    .openapi(listActions, async (c) => c.json(await store.actions.list(c.req.valid('query')), 200))
    .openapi(getAction, async (c) => {
      const action = await store.actions.get(c.req.valid('param').id);
      const jobs = await allJobs(store, action.id);
      return c.json({ ...action, jobs, progress: progressOf(jobs) }, 200);
    });
