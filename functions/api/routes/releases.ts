import {
  ExecutionAlreadyExists,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { createRoute, z } from '@hono/zod-openapi';
import { ConflictError, GsmError, StateConflictError, ValidationError } from '../../../core/errors.js';
import {
  checkStrategyFits,
  Id,
  Job,
  type JobState,
  packageId,
  parseStrategy,
  RELEASE_REJECTED_ERROR,
  Release,
  rollbackParentId,
  Target,
  Version,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { deployParams, ReleaseRefusedError, resolveReleaseTargets } from '../../tasks/plan-release/plan.js';
import { allJobs } from '../../tasks/plan-rollback/rollback.js';
import type { ApiWorkflows } from '../env.js';
import { requireRole } from '../middleware/auth.js';
import { router } from '../router.js';
import { IdParam, jsonBody, ok, PageQuery, pageOf, problems } from '../schemas.js';

export const ReleaseRequest = z
  .object({
    package: z.object({ game: Id, version: Version }).strict(),
    target: Target,
    // Checked by parseStrategy, which names each bad field; the defaults fill the rest.
    strategy: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const WaveView = z.object({
  index: z.number().int(),
  kind: z.string(),
  gate: z.boolean(),
  hostIds: z.array(z.string()),
  /** Jobs of this wave per state. */
  progress: z.record(z.string(), z.number()),
});

/** A release with its waves, every host job (deploys, then rollbacks) and how many are in each state. */
export const ReleaseDetail = Release.omit({ approvalToken: true }).extend({
  waves: z.array(WaveView),
  jobs: z.array(Job),
  progress: z.record(z.string(), z.number()),
});
export type ReleaseDetail = z.infer<typeof ReleaseDetail>;

const IdempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({
    description: 'a retry with the same key returns the first release instead of starting another',
  }),
});

const createRelease = createRoute({
  method: 'post',
  path: '/',
  summary: 'Release a staged package to hosts by id or tags, in waves',
  middleware: [requireRole('operator')] as const,
  request: { headers: IdempotencyHeader, ...jsonBody(ReleaseRequest) },
  responses: { 201: ok(Release, 'created: the workflow runs it'), ...problems(400, 401, 403, 404, 409, 413) },
});

const listReleases = createRoute({
  method: 'get',
  path: '/',
  summary: 'List releases, newest first',
  request: { query: PageQuery },
  responses: { 200: ok(pageOf(Release)), ...problems(400, 401) },
});

const getRelease = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One release, with its waves, host jobs and their progress',
  request: { params: IdParam },
  responses: { 200: ok(ReleaseDetail), ...problems(401, 404) },
});

const listReleaseJobs = createRoute({
  method: 'get',
  path: '/{id}/jobs',
  summary: 'The host jobs of a release',
  request: { params: IdParam, query: PageQuery },
  responses: { 200: ok(pageOf(Job)), ...problems(400, 401, 404) },
});

const DecisionBody = z.object({ reason: z.string().max(500).optional() }).strict();

const decide = (verb: 'approve' | 'reject' | 'cancel', summary: string) =>
  createRoute({
    method: 'post',
    path: `/{id}/${verb}`,
    summary,
    middleware: [requireRole('operator')] as const,
    request: { params: IdParam, ...jsonBody(DecisionBody) },
    responses: { 200: ok(Release), ...problems(400, 401, 403, 404, 409) },
  });

const approveRelease = decide('approve', 'Let a release waiting at an approval gate go on');
const rejectRelease = decide('reject', 'Stop a release waiting at an approval gate; it rolls back');
const cancelRelease = decide('cancel', 'Cancel a release: nothing more is dispatched after the running wave');

const progressOf = (jobs: readonly Job[]): Record<string, number> => {
  const progress: Partial<Record<JobState | 'total', number>> = { total: jobs.length };
  for (const job of jobs) progress[job.state] = (progress[job.state] ?? 0) + 1;
  return progress;
};

/**
 * The bad input the issue names, refused before anything starts: an unknown or unstaged
 * package, a target of no or unknown hosts, a strategy that does not fit the target.
 */
const checkRequest = async (store: Store, body: z.infer<typeof ReleaseRequest>) => {
  const strategy = parseStrategy(body.strategy);
  const pkg = await store.packages.get(packageId(body.package.game, body.package.version));
  try {
    deployParams(pkg, strategy);
  } catch (error) {
    if (error instanceof ReleaseRefusedError) throw new ConflictError(error.message);
    throw error;
  }
  let hostIds: string[];
  try {
    hostIds = await resolveReleaseTargets(store, body.target);
  } catch (error) {
    if (error instanceof ReleaseRefusedError) throw new ValidationError(error.message);
    throw error;
  }
  checkStrategyFits(strategy, hostIds.length);
  return { pkg, strategy };
};

const withoutToken = ({ approvalToken: _token, ...release }: Release) => release;

/** The release, when it is waiting at a gate: approve and reject mean nothing otherwise. */
const waiting = async (store: Store, workflows: ApiWorkflows | undefined, id: string, verb: string) => {
  if (!workflows) throw new GsmError('E_UNAVAILABLE', 'the release workflow is not deployed here');
  const release = await store.releases.get(id);
  if (release.state !== 'waiting_approval' || !release.approvalToken) {
    throw new StateConflictError(
      `release '${id}' is ${release.state}, not waiting for approval: nothing to ${verb}`,
      withoutToken(release),
    );
  }
  return { sfn: workflows.sfn, release };
};

export const releaseRoutes = (store: Store, workflows?: ApiWorkflows) =>
  router()
    .openapi(createRelease, async (c) => {
      const stateMachineArn = workflows?.stateMachines.release;
      if (!workflows || !stateMachineArn) {
        throw new GsmError(
          'E_UNAVAILABLE',
          'the release workflow is not deployed here (GSM_STATE_MACHINE_RELEASE)',
        );
      }
      const body = c.req.valid('json');
      const { pkg, strategy } = await checkRequest(store, body);
      const idempotencyKey = c.req.valid('header')['idempotency-key'];
      const release = await store.releases.create({
        game: pkg.game,
        version: pkg.version,
        packageId: pkg.id,
        target: body.target,
        strategy,
        createdBy: c.get('apiKey').id,
        idempotencyKey,
      });
      if (release.state !== 'pending') return c.json(release, 201);
      try {
        // Named by the release id: a retry names the same execution, so at most one ever runs.
        await workflows.sfn.send(
          new StartExecutionCommand({
            stateMachineArn,
            name: release.id,
            input: JSON.stringify({ releaseId: release.id }),
          }),
        );
      } catch (error) {
        if (!(error instanceof ExecutionAlreadyExists)) {
          // With a key, the client's retry starts it; without one, nothing ever would.
          if (idempotencyKey === undefined) {
            await store.releases.transition(release.id, 'failed', {
              reason: 'the release workflow could not be started',
            });
          }
          throw new GsmError('E_UNAVAILABLE', 'the release workflow could not be started; try again', {
            cause: error,
          });
        }
      }
      c.get('logger').info({ releaseId: release.id, package: pkg.id }, 'release started');
      return c.json(release, 201);
    })
    .openapi(approveRelease, async (c) => {
      const { sfn, release } = await waiting(store, workflows, c.req.valid('param').id, 'approve');
      // Running again first: were the token sent first, the next gate could park it before this write.
      const moved = await store.releases.transition(release.id, 'running', {}, ['waiting_approval']);
      await sfn.send(
        new SendTaskSuccessCommand({ taskToken: release.approvalToken as string, output: '{}' }),
      );
      c.get('logger').info({ releaseId: release.id, wave: release.approvalWave }, 'release approved');
      return c.json(withoutToken(moved), 200);
    })
    .openapi(rejectRelease, async (c) => {
      const { sfn, release } = await waiting(store, workflows, c.req.valid('param').id, 'reject');
      const reason = c.req.valid('json').reason ?? 'rejected by an operator';
      const moved = await store.releases.transition(release.id, 'running', {}, ['waiting_approval']);
      await sfn.send(
        new SendTaskFailureCommand({
          taskToken: release.approvalToken as string,
          error: RELEASE_REJECTED_ERROR,
          cause: reason,
        }),
      );
      return c.json(withoutToken(moved), 200);
    })
    .openapi(cancelRelease, async (c) => {
      const id = c.req.valid('param').id;
      const reason = c.req.valid('json').reason ?? 'cancelled by an operator';
      const before = await store.releases.get(id);
      const cancelled = await store.releases.transition(id, 'cancelled', { reason }, [
        'pending',
        'running',
        'waiting_approval',
      ]);
      // A parked gate would wait forever: fail it so the workflow rolls back and ends.
      if (before.state === 'waiting_approval' && before.approvalToken && workflows) {
        await workflows.sfn
          .send(
            new SendTaskFailureCommand({
              taskToken: before.approvalToken,
              error: RELEASE_REJECTED_ERROR,
              cause: reason,
            }),
          )
          .catch(() => undefined);
      }
      return c.json(withoutToken(cancelled), 200);
    })
    .openapi(listReleases, async (c) => {
      const page = await store.releases.list(c.req.valid('query'));
      // The gate's token completes a task: it stays on the record, never in an answer.
      return c.json({ ...page, items: page.items.map(withoutToken) }, 200);
    })
    .openapi(getRelease, async (c) => {
      const { approvalToken: _token, ...release } = await store.releases.get(c.req.valid('param').id);
      const [deploys, rollbacks] = await Promise.all([
        allJobs(store, release.id),
        allJobs(store, rollbackParentId(release.id)),
      ]);
      const byHost = new Map(deploys.map((job) => [job.hostId, job]));
      const waves = release.waves.map((wave) => ({
        ...wave,
        progress: progressOf(wave.hostIds.flatMap((id) => byHost.get(id) ?? [])),
      }));
      const jobs = [...deploys, ...rollbacks];
      return c.json({ ...release, waves, jobs, progress: progressOf(deploys) }, 200);
    })
    .openapi(listReleaseJobs, async (c) => {
      const release = await store.releases.get(c.req.valid('param').id);
      return c.json(await store.jobs.listByParent(release.id, c.req.valid('query')), 200);
    });
