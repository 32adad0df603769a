import type { Logger } from '../../../core/log.js';
import {
  type Job,
  jobIdFor,
  type PlanRollbackEvent,
  type PlanRollbackResult,
  parseStrategy,
  RELEASE_JOB_ACTIONS,
  rollbackParentId,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { shardHosts } from '../plan-action/plan.js';

export interface PlanRollbackDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

/** Time a rollback job needs besides draining and the health check: stop, switch, start. */
const ROLLBACK_WORK_SEC = 300;

export const allJobs = async (store: Store, parentId: string, pageSize = 500): Promise<Job[]> => {
  const jobs: Job[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.jobs.listByParent(parentId, { limit: pageSize, cursor });
    jobs.push(...page.items);
    cursor = page.next;
  } while (cursor !== null);
  return jobs;
};

/**
 * The hosts a release switched to its version and nothing has rolled back yet: a host with a
 * rollback job already (a rollback that ran, even one that failed) is not tried twice.
 */
export const changedHosts = async (store: Store, releaseId: string): Promise<string[]> => {
  const [deploys, rollbacks] = await Promise.all([
    allJobs(store, releaseId),
    allJobs(store, rollbackParentId(releaseId)),
  ]);
  const triedBack = new Set(rollbacks.map((job) => job.hostId));
  return deploys
    .filter((job) => job.action === RELEASE_JOB_ACTIONS.deploy && job.state === 'succeeded')
    .map((job) => job.hostId)
    .filter((hostId) => !triedBack.has(hostId));
};

/**
 * PlanRollback: one `rollback` job per host this release switched to its version, i.e. whose
 * deploy succeeded. A failed deploy already switched back on the agent (its health check
 * failed) or never switched; rolling it back again would switch to an older version still.
 * The rollback jobs have their own parent, and no error budget: every changed host is tried.
 */
export const planRollback = async (
  { store, logger }: PlanRollbackDeps,
  event: PlanRollbackEvent,
): Promise<PlanRollbackResult> => {
  const release = await store.releases.get(event.releaseId);
  const strategy = parseStrategy(release.strategy);
  const changed = await changedHosts(store, release.id);
  // Wave order, not id order: the canary, changed first, goes back first.
  const order = new Map(release.hostIds.map((id, i) => [id, i]));
  changed.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const parentId = rollbackParentId(release.id);
  const action = RELEASE_JOB_ACTIONS.rollback;
  const params = {
    drain: { timeoutSec: strategy.drain.timeoutSec },
    healthTimeoutSec: strategy.healthTimeoutSec,
  };
  if (changed.length === 0) return { releaseId: release.id, hosts: 0, shards: [] };
  await store.jobs.createMany(
    changed.map((hostId) => ({
      id: jobIdFor(parentId, hostId, action),
      parentType: 'release' as const,
      parentId,
      hostId,
      action,
      params,
    })),
  );
  const jobTimeoutSec = strategy.drain.timeoutSec + strategy.healthTimeoutSec + ROLLBACK_WORK_SEC;
  const shards = shardHosts(
    { id: parentId, action, params, strategy: { ...strategy, jobTimeoutSec } },
    changed,
    { total: release.hostIds.length, maxErrors: changed.length, mapConcurrency: event.mapConcurrency },
  ).map((shard) => ({ ...shard, parentType: 'release' as const }));
  logger?.info({ releaseId: release.id, hosts: changed.length }, 'release rollback planned');
  return { releaseId: release.id, hosts: changed.length, shards };
};
