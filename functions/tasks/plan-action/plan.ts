import type { Logger } from '../../../core/log.js';
import {
  ACTION_JOB_ERRORS,
  type Action,
  isTerminalActionState,
  jobIdFor,
  type PlanActionEvent,
  type PlanActionResult,
  resolveMaxConcurrency,
  resolveMaxErrors,
  SHARD_HARD_MAX_HOSTS,
  SHARD_MAX_HOSTS,
  SHARD_MIN_TIMEOUT_SEC,
  SHARD_SLACK_SEC,
  type ShardItem,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';

export interface PlanDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

/** Store writes in flight at once while creating an action's jobs. */
const WRITE_CONCURRENCY = 25;

const inBatches = async <T>(items: readonly T[], size: number, run: (item: T) => Promise<void>) => {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
};

export interface ResolvedTargets {
  /** Registered hosts, sorted by id. */
  readonly known: string[];
  /** Named hosts that are not registered, sorted by id. */
  readonly unknown: string[];
}

export const resolveTargets = async (store: Store, target: Action['target']): Promise<ResolvedTargets> => {
  if ('hosts' in target) {
    const ids = [...new Set(target.hosts)].sort();
    const found = await Promise.all(ids.map((id) => store.hosts.find(id)));
    return {
      known: ids.filter((_, i) => found[i] !== undefined),
      unknown: ids.filter((_, i) => found[i] === undefined),
    };
  }
  const known: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.hosts.list({ tags: target.tags, limit: 500, cursor });
    known.push(...page.items.map((host) => host.id));
    cursor = page.next;
  } while (cursor !== null);
  return { known, unknown: [] };
};

/**
 * Splits the hosts into relay tasks so that the hosts running at once across every shard in
 * flight stay at maxConcurrency: shards of SHARD_MAX_HOSTS, or fewer and larger ones when the
 * Map would otherwise run more shards at once than hosts are allowed.
 */
export const shardHosts = (
  // Any job action: releases shard their deploy and rollback jobs the same way.
  action: Pick<Action, 'id' | 'params' | 'strategy'> & { readonly action: string },
  hostIds: readonly string[],
  { total, maxErrors, mapConcurrency }: { total: number; maxErrors: number; mapConcurrency: number },
): ShardItem[] => {
  if (hostIds.length === 0) return [];
  const maxConcurrency = resolveMaxConcurrency(action.strategy.maxConcurrency, total);
  let count = Math.ceil(hostIds.length / SHARD_MAX_HOSTS);
  if (maxConcurrency < Math.min(count, mapConcurrency)) {
    count = Math.max(Math.ceil(hostIds.length / SHARD_HARD_MAX_HOSTS), maxConcurrency);
  }
  const size = Math.ceil(hostIds.length / count);
  const running = Math.min(Math.ceil(hostIds.length / size), mapConcurrency);
  const perShard = Math.max(1, Math.floor(maxConcurrency / running));
  const { jobTimeoutSec } = action.strategy;
  const shards: ShardItem[] = [];
  for (let start = 0; start < hostIds.length; start += size) {
    const hosts = hostIds.slice(start, start + size);
    const concurrency = Math.min(perShard, hosts.length);
    const batches = Math.ceil(hosts.length / concurrency);
    shards.push({
      shard: shards.length,
      parentType: 'action',
      parentId: action.id,
      jobs: hosts.map((hostId) => ({
        jobId: jobIdFor(action.id, hostId, action.action),
        hostId,
        action: action.action,
        params: action.params,
      })),
      maxConcurrency: concurrency,
      maxErrors,
      jobTimeoutSec,
      timeoutSec: Math.max(SHARD_MIN_TIMEOUT_SEC, jobTimeoutSec * batches + SHARD_SLACK_SEC),
    });
  }
  return shards;
};

const describeTarget = (target: Action['target']): string =>
  'tags' in target
    ? `tags ${Object.entries(target.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`
    : `hosts ${target.hosts.join(',')}`;

/**
 * PlanTargets: resolves the action's target, creates its queued host jobs (failing unknown
 * hosts at once, counted against maxErrors), marks the action running and hands back the
 * shards. Safe to retry: job ids are deterministic and every write is idempotent.
 */
export const planAction = async (
  { store, logger }: PlanDeps,
  event: PlanActionEvent,
): Promise<PlanActionResult> => {
  const action = await store.actions.get(event.actionId);
  const nothing = { actionId: action.id, total: 0, maxErrors: 0, shards: [] };
  if (isTerminalActionState(action.state)) return nothing;

  const { known, unknown } = await resolveTargets(store, action.target);
  const hostIds = [...known, ...unknown].sort();
  if (hostIds.length === 0) {
    await store.actions.transition(action.id, 'failed', {
      reason: `the target matches no host (${describeTarget(action.target)})`,
      executionArn: event.executionArn,
      counters: { total: 0 },
    });
    return nothing;
  }

  const total = hostIds.length;
  const maxErrors = resolveMaxErrors(action.strategy.maxErrors, total);
  await store.actions.transition(action.id, 'running', { hostIds, executionArn: event.executionArn });

  const unknownSet = new Set(unknown);
  let failedNow = 0;
  await inBatches(hostIds, WRITE_CONCURRENCY, async (hostId) => {
    const job = await store.jobs.create({
      id: jobIdFor(action.id, hostId, action.action),
      parentType: 'action',
      parentId: action.id,
      hostId,
      action: action.action,
      params: action.params,
    });
    // Only a job this call moves is counted, so a retried plan never counts a host twice.
    if (unknownSet.has(hostId) && job.state === 'queued') {
      await store.jobs.transition(job.id, 'failed', {
        error: { code: ACTION_JOB_ERRORS.unknownHost, message: `host '${hostId}' is not registered` },
      });
      failedNow++;
    }
  });
  if (failedNow > 0) await store.counters.add(action.id, { failed: failedNow });

  const shards = shardHosts(action, known, { total, maxErrors, mapConcurrency: event.mapConcurrency });
  logger?.info(
    { actionId: action.id, hosts: total, unknown: unknown.length, shards: shards.length, maxErrors },
    'action planned',
  );
  return { actionId: action.id, total, maxErrors, shards };
};
