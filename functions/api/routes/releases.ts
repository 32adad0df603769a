import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { createRoute, z } from '@hono/zod-openapi';
import { GsmError, StateConflictError } from '../../../core/errors.js';
import {
  Id,
  Job,
  parseStrategy,
  RELEASE_CANCELLED_ERROR,
  RELEASE_REJECTED_ERROR,
  Release,
  ROLLBACK_FROM_STATES,
  rollbackExecutionName,
  STOP_COUNTER,
  Target,
  Version,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { startRelease } from '../../tasks/plan-release/start.js';
import { changedHosts } from '../../tasks/plan-rollback/rollback.js';
import type { ApiWorkflows } from '../env.js';
import { requireRole } from '../middleware/auth.js';
import { createReleaseJobsView } from '../release-jobs-view.js';
import { router } from '../router.js';
import { IdParam, jsonBody, ok, PageQuery, pageOf, problems } from '../schemas.js';
import {
  ReleaseDetail,
  type ReleaseReads,
  releaseDetail,
  releaseRecordReads,
  withoutToken,
} from './release-detail.js';
import { releaseEventRoutes } from './release-events.js';

export { ReleaseDetail } from './release-detail.js';

export const ReleaseRequest = z
  .object({
    package: z.object({ game: Id, version: Version }).strict(),
    target: Target,
    // Checked by parseStrategy, which names each bad field; the defaults fill the rest.
    strategy: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

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

const decide = (verb: 'approve' | 'reject' | 'cancel' | 'rollback', summary: string) =>
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
const cancelRelease = decide(
  'cancel',
  'Cancel a release: nothing more is dispatched, hosts in flight finish, the changed hosts roll back (unless rollback is none), then it ends cancelled',
);
const rollbackRelease = decide(
  'rollback',
  'Roll a release back: a running one is cancelled and rolls back (409 when its strategy says rollback none); an ended one (succeeded, failed, cancelled) puts the hosts it changed and nothing rolled back yet on their previous version and ends rolled_back',
);

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

const needWorkflows = (workflows: ApiWorkflows | undefined) => {
  const stateMachineArn = workflows?.stateMachines.release;
  if (!workflows || !stateMachineArn) {
    throw new GsmError(
      'E_UNAVAILABLE',
      'the release workflow is not deployed here (GSM_STATE_MACHINE_RELEASE)',
    );
  }
  return { sfn: workflows.sfn, stateMachineArn };
};

/**
 * An operator's cancel. A pending release ends cancelled at once (nothing ran). A running or
 * waiting one records the request and raises the stop counter, so every relay shard dispatches
 * nothing more while hosts in flight finish; a parked gate is failed. The workflow then rolls
 * back what the release changed and its Finalize ends it cancelled with the reason.
 */
const cancel = async (store: Store, workflows: ApiWorkflows | undefined, id: string, reason: string) => {
  const release = await store.releases.get(id);
  if (release.state === 'pending') {
    try {
      const cancelled = await store.releases.transition(id, 'cancelled', { reason }, ['pending']);
      await store.hostLocks.release(id, release.hostIds);
      return cancelled;
    } catch (error) {
      // The workflow planned it meanwhile: cancel it as a running one.
      if (!(error instanceof StateConflictError)) throw error;
    }
  }
  const { before, requested } = await store.releases.requestCancel(id, reason);
  if (requested) {
    await store.counters.add(id, { [STOP_COUNTER]: 1 });
    if (before.state === 'waiting_approval' && before.approvalToken && workflows) {
      await workflows.sfn
        .send(
          new SendTaskFailureCommand({
            taskToken: before.approvalToken,
            error: RELEASE_CANCELLED_ERROR,
            cause: reason,
          }),
        )
        // A gate that timed out or was answered meanwhile has nothing left to fail.
        .catch(() => undefined);
    }
  }
  return store.releases.get(id);
};

/** How long a rollback request may go without its execution: the API starts it right after. */
const ROLLBACK_START_GRACE_MS = 60_000;

/**
 * A rollback asked for earlier whose execution is gone without reaching Finalize (stopped by
 * hand, timed out): its request is withdrawn with why, so a new one may start. One still
 * running, or being started, is a conflict.
 */
const settleStaleRollback = async (
  store: Store,
  sfn: ApiWorkflows['sfn'],
  stateMachineArn: string,
  release: Release,
) => {
  const name = rollbackExecutionName(release.id, release.rollbackAttempts);
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const status = await sfn.send(new DescribeExecutionCommand({ executionArn })).then(
    (out) => out.status,
    (error: unknown) => {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    },
  );
  const starting =
    status === undefined &&
    Date.now() - Date.parse(release.rollbackRequestedAt ?? '') < ROLLBACK_START_GRACE_MS;
  if (status === 'RUNNING' || starting) {
    throw new StateConflictError(
      `release '${release.id}' is already being rolled back`,
      withoutToken(release),
    );
  }
  await store.releases.endRollback(
    release.id,
    `the rollback execution ${name} ended ${status ?? 'unstarted'} before it finished`,
  );
};

/**
 * Rolls back an ended release: the hosts whose deploy succeeded go back to their previous
 * version through a rollback-only execution of the release machine, which ends it rolled_back.
 * The request is marked before the locks are taken: once marked, the ended release counts as
 * holding its hosts, so no other release can take one between the two steps. A step that
 * fails withdraws the request, so the release does not look rolling back forever.
 */
const rollbackEnded = async (store: Store, workflows: ApiWorkflows | undefined, release: Release) => {
  const { sfn, stateMachineArn } = needWorkflows(workflows);
  if (release.state === 'rolled_back') {
    throw new StateConflictError(`release '${release.id}' is already rolled back`, withoutToken(release));
  }
  if (!ROLLBACK_FROM_STATES.includes(release.state)) {
    throw new StateConflictError(
      `release '${release.id}' is ${release.state}: only a succeeded, failed or cancelled release can be rolled back`,
      withoutToken(release),
    );
  }
  const changed = await changedHosts(store, release.id);
  if (changed.length === 0) {
    throw new StateConflictError(
      `release '${release.id}' changed no host: there is nothing to roll back`,
      withoutToken(release),
    );
  }
  if (release.rollbackRequestedAt !== undefined) {
    await settleStaleRollback(store, sfn, stateMachineArn, release);
  }
  const requested = await store.releases.requestRollback(release.id);
  const withdraw = async (failure?: string) => {
    await store.releases.endRollback(release.id, failure);
    await store.hostLocks.release(release.id, changed);
  };
  try {
    await store.hostLocks.acquire(release.id, changed);
  } catch (error) {
    await store.releases.endRollback(release.id);
    throw error;
  }
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: rollbackExecutionName(release.id, requested.rollbackAttempts),
        input: JSON.stringify({ releaseId: release.id, mode: 'rollback' }),
      }),
    );
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) {
      await withdraw();
      throw new StateConflictError(
        `release '${release.id}' is already being rolled back`,
        withoutToken(release),
        { cause: error },
      );
    }
    await withdraw(`the rollback could not be started: ${(error as Error).message}`);
    throw new GsmError('E_UNAVAILABLE', 'the rollback could not be started; try again', { cause: error });
  }
  return store.releases.get(release.id);
};

export const releaseRoutes = (
  store: Store,
  workflows?: ApiWorkflows,
  reads: ReleaseReads = { jobsView: createReleaseJobsView(store), records: releaseRecordReads() },
) => {
  /** After a write here, even a failed one that changed something, this process's readers see it at once. */
  const writing = async <T>(write: Promise<T>): Promise<T> => {
    try {
      return await write;
    } finally {
      reads.records?.invalidate();
    }
  };
  return router()
    .route('/', releaseEventRoutes(store, reads))
    .openapi(createRelease, async (c) => {
      const { sfn, stateMachineArn } = needWorkflows(workflows);
      const body = c.req.valid('json');
      const release = await writing(
        startRelease(
          { store, sfn, stateMachineArn, logger: c.get('logger') },
          {
            ...body,
            createdBy: c.get('apiKey').id,
            idempotencyKey: c.req.valid('header')['idempotency-key'],
          },
        ),
      );
      return c.json(withoutToken(release), 201);
    })
    .openapi(approveRelease, async (c) => {
      const { sfn, release } = await waiting(store, workflows, c.req.valid('param').id, 'approve');
      // Running again first: were the token sent first, the next gate could park it before this write.
      const moved = await writing(store.releases.transition(release.id, 'running', {}, ['waiting_approval']));
      await sfn.send(
        new SendTaskSuccessCommand({ taskToken: release.approvalToken as string, output: '{}' }),
      );
      c.get('logger').info({ releaseId: release.id, wave: release.approvalWave }, 'release approved');
      return c.json(withoutToken(moved), 200);
    })
    .openapi(rejectRelease, async (c) => {
      const { sfn, release } = await waiting(store, workflows, c.req.valid('param').id, 'reject');
      const reason = c.req.valid('json').reason ?? 'rejected by an operator';
      const moved = await writing(store.releases.transition(release.id, 'running', {}, ['waiting_approval']));
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
      const release = await writing(cancel(store, workflows, id, reason));
      c.get('logger').info({ releaseId: id, state: release.state, reason }, 'release cancel requested');
      return c.json(withoutToken(release), 200);
    })
    .openapi(rollbackRelease, async (c) => {
      const id = c.req.valid('param').id;
      const reason = c.req.valid('json').reason ?? 'rolled back by an operator';
      const release = await store.releases.get(id);
      const live = ['pending', 'running', 'waiting_approval'].includes(release.state);
      if (live && release.state !== 'pending' && parseStrategy(release.strategy).rollback === 'none') {
        throw new StateConflictError(
          `release '${id}' has strategy rollback none, so a cancel would leave its hosts changed: cancel it, then roll it back once it has ended`,
          withoutToken(release),
        );
      }
      const after = await writing(
        live ? cancel(store, workflows, id, reason) : rollbackEnded(store, workflows, release),
      );
      c.get('logger').info({ releaseId: id, state: after.state }, 'release rollback requested');
      return c.json(withoutToken(after), 200);
    })
    .openapi(listReleases, async (c) => {
      const page = await store.releases.list(c.req.valid('query'));
      // The gate's token completes a task: it stays on the record, never in an answer.
      return c.json({ ...page, items: page.items.map(withoutToken) }, 200);
    })
    .openapi(getRelease, async (c) => c.json(await releaseDetail(store, c.req.valid('param').id, reads), 200))
    .openapi(listReleaseJobs, async (c) => {
      const release = await store.releases.get(c.req.valid('param').id);
      return c.json(await store.jobs.listByParent(release.id, c.req.valid('query')), 200);
    });
};
