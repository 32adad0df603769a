import { createHash } from 'node:crypto';
import { ConflictError, GsmError, NotFoundError, StateConflictError } from '../../core/errors.js';
import {
  type Action,
  isTerminalActionState,
  type Job,
  type Package,
  TERMINAL_RELEASE_STATES,
} from '../../core/model/index.js';
import type { PackageObjects } from '../../core/store/objects.js';
import type { Store } from '../../core/store/types.js';
import { startActionExecution } from './action-execution.js';
import type { ApiWorkflows } from './env.js';

/**
 * DELETE /v1/packages/:id. Refused while intake works on the package, a release in flight uses
 * it or a host runs its version. Otherwise the record moves to `deleting`, the stored object
 * goes, and an `unstage` action (the action workflow, through the relay) removes the copy on
 * every origin it was staged to. The call waits a bounded time for that action; once it has
 * ended the record is removed and every origin that could not be cleaned is reported. If the
 * action is still running the answer says `deleting`, and calling DELETE again picks up the
 * same action (its id is derived from the package) instead of starting another.
 */

export interface RemovalDeps {
  readonly store: Store;
  readonly objects: PackageObjects;
  readonly workflows?: ApiWorkflows;
  /** How long one call waits for the origins' unstage jobs: the API Lambda has 29 s in all. */
  readonly waitMs?: number;
  readonly pollMs?: number;
}

export interface OriginRemoval {
  readonly id: string;
  readonly hostId?: string;
  readonly removed: boolean;
  readonly error?: string;
}

export interface Removal {
  readonly id: string;
  /** `removed`: the record is gone. `deleting`: the origins' copies are still being removed. */
  readonly state: 'removed' | 'deleting';
  readonly actionId?: string;
  readonly origins: OriginRemoval[];
  readonly notes: string[];
}

const DEFAULT_WAIT_MS = 15_000;
const DEFAULT_POLL_MS = 200;
const UNSTAGE_TIMEOUT_SEC = 120;

const orUndefined = <T>(promise: Promise<T>): Promise<T | undefined> =>
  promise.catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });

const collect = async <T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>,
): Promise<T[]> => {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    items.push(...p.items);
    cursor = p.next ?? undefined;
  } while (cursor);
  return items;
};

/** One per package record: a retried DELETE finds it; a later package of the same id gets its own. */
export const unstageActionId = (pkg: Pick<Package, 'id' | 'createdAt'>): string =>
  `unstage-${createHash('sha256').update(`${pkg.id}\0${pkg.createdAt}`).digest('hex').slice(0, 24)}`;

const refuseWhileInUse = async (store: Store, pkg: Package): Promise<void> => {
  if (pkg.state === 'verifying' || pkg.state === 'staging') {
    throw new StateConflictError<Package>(
      `package '${pkg.id}' is ${pkg.state}; delete it once that ends`,
      pkg,
    );
  }
  const releases = await collect((cursor) => store.releases.list({ cursor, limit: 500 }));
  const release = releases.find((r) => r.packageId === pkg.id && !TERMINAL_RELEASE_STATES.includes(r.state));
  if (release) throw new ConflictError(`release '${release.id}' (${release.state}) uses package '${pkg.id}'`);
  const hosts = await collect((cursor) => store.hosts.list({ cursor, limit: 500 }));
  const host = hosts.find((h) => h.instances.some((i) => i.game === pkg.game && i.version === pkg.version));
  if (host) throw new ConflictError(`host '${host.id}' runs ${pkg.game} ${pkg.version}`);
};

/** Each origin copy with the agent host that can remove it, or why none can. */
const originHosts = async (store: Store, pkg: Package) =>
  Promise.all(
    pkg.origins.map(async (copy) => {
      const origin = await orUndefined(store.origins.get(copy.id));
      if (!origin) return { id: copy.id, error: 'the origin is no longer registered' };
      return { id: copy.id, hostId: origin.hostId };
    }),
  );

const startUnstage = async (
  deps: RemovalDeps,
  pkg: Package,
  hostIds: string[],
  createdBy: string,
): Promise<Action> => {
  const { store, workflows } = deps;
  const stateMachineArn = workflows?.stateMachines.action;
  if (!workflows || !stateMachineArn) throw new Error('unreachable: checked by the caller');
  const id = unstageActionId(pkg);
  const action =
    (await orUndefined(store.actions.get(id))) ??
    (await store.actions
      .create({
        id,
        action: 'unstage',
        target: { hosts: [...new Set(hostIds)].sort() },
        params: { game: pkg.game, version: pkg.version, file: pkg.fileName },
        // Every origin is tried whatever the others do.
        strategy: { maxConcurrency: '100%', maxErrors: '100%', jobTimeoutSec: UNSTAGE_TIMEOUT_SEC },
        createdBy,
      })
      .catch(async (error: unknown) => {
        // Two DELETEs at once: the other one created it.
        const existing =
          error instanceof ConflictError ? await orUndefined(store.actions.get(id)) : undefined;
        if (!existing) throw error;
        return existing;
      }));
  if (action.state !== 'pending') return action;
  await startActionExecution(workflows.sfn, stateMachineArn, action.id).catch((error: unknown) => {
    throw new GsmError(
      'E_UNAVAILABLE',
      `package '${pkg.id}' is deleting, but removing its origin copies could not start; call DELETE again`,
      { cause: error },
    );
  });
  return action;
};

const waitForEnd = async (deps: RemovalDeps, actionId: string): Promise<Action> => {
  const deadline = Date.now() + (deps.waitMs ?? DEFAULT_WAIT_MS);
  for (;;) {
    const action = await deps.store.actions.get(actionId);
    if (isTerminalActionState(action.state) || Date.now() >= deadline) return action;
    await new Promise((resolve) => setTimeout(resolve, deps.pollMs ?? DEFAULT_POLL_MS));
  }
};

const jobError = (job: Job | undefined, action: Action): string => {
  if (!job) return `no unstage job ran (${action.reason ?? `action ${action.state}`})`;
  const detail = job.error ? `${job.error.code}: ${job.error.message}` : undefined;
  return detail ? `${job.state}: ${detail}` : `unstage job ${job.state}`;
};

export const removePackage = async (deps: RemovalDeps, id: string, createdBy: string): Promise<Removal> => {
  const { store, objects } = deps;
  let pkg = await store.packages.get(id);
  if (pkg.state !== 'deleting') {
    await refuseWhileInUse(store, pkg);
    pkg = await store.packages.transition(id, 'deleting');
  }
  // Idempotent, so a retried DELETE simply does it again.
  if (pkg.uploadId) await objects.abortUpload(pkg.s3Key, pkg.uploadId);
  await objects.remove(pkg.s3Key);

  const copies = await originHosts(store, pkg);
  const reachable = copies.filter((c): c is { id: string; hostId: string } => c.hostId !== undefined);
  const notes: string[] = [];
  let origins: OriginRemoval[] = copies.map((c) => ({ ...c, removed: false }));
  let actionId: string | undefined;
  if (reachable.length > 0) {
    if (!deps.workflows?.stateMachines.action) {
      origins = origins.map((o) => ({
        ...o,
        error: o.error ?? 'the action workflow is not deployed here (GSM_STATE_MACHINE_ACTION)',
      }));
    } else {
      const started = await startUnstage(
        deps,
        pkg,
        reachable.map((c) => c.hostId),
        createdBy,
      );
      actionId = started.id;
      const action = await waitForEnd(deps, started.id);
      if (!isTerminalActionState(action.state)) {
        notes.push(
          `removing the copies on ${reachable.length} origin(s) (action ${action.id}); call DELETE again`,
        );
        return { id, state: 'deleting', actionId, origins, notes };
      }
      const jobs = await collect((cursor) => store.jobs.listByParent(action.id, { cursor, limit: 500 }));
      const byHost = new Map(jobs.map((job) => [job.hostId, job]));
      origins = origins.map((o) => {
        if (o.error || !o.hostId) return o;
        const job = byHost.get(o.hostId);
        return job?.state === 'succeeded' ? { ...o, removed: true } : { ...o, error: jobError(job, action) };
      });
    }
  }
  for (const o of origins.filter((x) => !x.removed)) {
    notes.push(`the copy on origin ${o.id} was not removed: ${o.error}`);
  }
  await store.packages.remove(id);
  return { id, state: 'removed', ...(actionId ? { actionId } : {}), origins, notes };
};
