import { GsmError, NotFoundError, ValidationError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import {
  checkStrategyFits,
  DEPLOY_WORK_SEC,
  jobIdFor,
  type Package,
  type PlanReleaseEvent,
  type PlanReleaseResult,
  parseStrategy,
  planWaves,
  RELEASE_JOB_ACTIONS,
  type Release,
  type ReleaseStrategy,
  releaseMaxErrors,
  TERMINAL_RELEASE_STATES,
  type WavePlan,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { shardHosts } from '../plan-action/plan.js';

export interface PlanReleaseDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

/** Why a release cannot start; the planner records it as the release's reason. */
export class ReleaseRefusedError extends GsmError {
  constructor(message: string) {
    super('E_RELEASE_REFUSED', message);
  }
}

/** Hosts in the order the target names them (first mention wins), or tagged hosts sorted by id. */
export const resolveReleaseTargets = async (store: Store, target: Release['target']): Promise<string[]> => {
  if ('hosts' in target) {
    const ids = [...new Set(target.hosts)];
    const found = await Promise.all(ids.map((id) => store.hosts.find(id)));
    const unknown = ids.filter((_, i) => found[i] === undefined);
    if (unknown.length > 0) throw new ReleaseRefusedError(`unknown host(s): ${unknown.join(', ')}`);
    return ids;
  }
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.hosts.list({ tags: target.tags, limit: 500, cursor });
    ids.push(...page.items.map((host) => host.id));
    cursor = page.next;
  } while (cursor !== null);
  return ids;
};

/** The deploy job's params: what the agent's `deploy` needs to install, drain and check. */
export const deployParams = (pkg: Package, strategy: ReleaseStrategy): Record<string, unknown> => {
  // Only origins that served the right bytes when checked; the agent fails over in this order.
  const urls = pkg.origins.filter((origin) => origin.verified && origin.url).map((origin) => origin.url);
  if (pkg.state !== 'staged' && pkg.state !== 'verified') {
    throw new ReleaseRefusedError(`package '${pkg.id}' is ${pkg.state}, not staged`);
  }
  if (urls.length === 0)
    throw new ReleaseRefusedError(`package '${pkg.id}' has no verified origin to download from`);
  if (!pkg.sha256) throw new ReleaseRefusedError(`package '${pkg.id}' has no SHA-256`);
  return {
    urls,
    sha256: pkg.sha256,
    size: pkg.size,
    version: pkg.version,
    drain: { timeoutSec: strategy.drain.timeoutSec },
    healthTimeoutSec: strategy.healthTimeoutSec,
  };
};

/** Host records read at once while planning. */
const PARALLEL_READS = 25;

/** The version of `game` each host runs now, as its record says (hosts without one are left out). */
const versionsNow = async (store: Store, hostIds: readonly string[], game: string) => {
  const versions: Record<string, string> = {};
  for (let i = 0; i < hostIds.length; i += PARALLEL_READS) {
    const batch = hostIds.slice(i, i + PARALLEL_READS);
    const hosts = await Promise.all(batch.map((id) => store.hosts.find(id)));
    for (const host of hosts) {
      const version = host?.instances.find((instance) => instance.game === game)?.version;
      if (host && version) versions[host.id] = version;
    }
  }
  return versions;
};

const refused = (releaseId: string): PlanReleaseResult => ({
  releaseId,
  ok: false,
  total: 0,
  maxErrors: 0,
  rollback: false,
  waves: [],
});

/**
 * PlanWaves: checks the package and the target, creates one queued `deploy` job per host,
 * marks the release running with its waves and hands back each wave's relay shards. A refusal
 * marks the release failed with the reason and plans nothing. Safe to retry: job ids are
 * deterministic and job creation is idempotent.
 */
export const planRelease = async (
  { store, logger }: PlanReleaseDeps,
  event: PlanReleaseEvent,
): Promise<PlanReleaseResult> => {
  const release = await store.releases.get(event.releaseId);
  if (TERMINAL_RELEASE_STATES.includes(release.state)) return refused(release.id);

  let plan: { strategy: ReleaseStrategy; hostIds: string[]; params: Record<string, unknown> };
  try {
    const strategy = parseStrategy(release.strategy);
    const pkg = await store.packages.get(release.packageId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (!pkg || pkg.game !== release.game || pkg.version !== release.version) {
      throw new ReleaseRefusedError(`package ${release.game}@${release.version} does not exist`);
    }
    const params = deployParams(pkg, strategy);
    // The hosts resolved (and locked) when the release was asked for; the target otherwise.
    const hostIds = await resolveReleaseTargets(
      store,
      release.hostIds.length > 0 ? { hosts: release.hostIds } : release.target,
    );
    checkStrategyFits(strategy, hostIds.length);
    plan = { strategy, hostIds, params };
  } catch (error) {
    if (!(error instanceof ReleaseRefusedError || error instanceof ValidationError)) throw error;
    await store.releases.transition(release.id, 'failed', {
      reason: error.message,
      executionArn: event.executionArn,
    });
    logger?.info({ releaseId: release.id, reason: error.message }, 'release refused');
    return refused(release.id);
  }

  const { strategy, hostIds, params } = plan;
  const total = hostIds.length;
  const maxErrors = releaseMaxErrors(strategy, total);
  const waves = planWaves(hostIds, strategy);
  const action = RELEASE_JOB_ACTIONS.deploy;
  await store.jobs.createMany(
    hostIds.map((hostId) => ({
      id: jobIdFor(release.id, hostId, action),
      parentType: 'release' as const,
      parentId: release.id,
      hostId,
      action,
      params,
    })),
  );
  await store.releases.transition(release.id, 'running', {
    executionArn: event.executionArn,
    hostIds,
    waves,
    versionsBefore: await versionsNow(store, hostIds, release.game),
  });

  const jobTimeoutSec = strategy.drain.timeoutSec + strategy.healthTimeoutSec + DEPLOY_WORK_SEC;
  const shape = { id: release.id, action, params, strategy: { ...strategy, jobTimeoutSec } };
  const wavePlans: WavePlan[] = waves.map((wave) => ({
    index: wave.index,
    kind: wave.kind,
    gate: wave.gate,
    size: wave.hostIds.length,
    last: wave.index === waves.length - 1,
    shards: shardHosts(shape, wave.hostIds, { total, maxErrors, mapConcurrency: event.mapConcurrency }).map(
      (shard) => ({ ...shard, parentType: 'release' as const }),
    ),
  }));
  logger?.info({ releaseId: release.id, hosts: total, waves: waves.length, maxErrors }, 'release planned');
  return {
    releaseId: release.id,
    ok: true,
    total,
    maxErrors,
    rollback: strategy.rollback === 'auto',
    waves: wavePlans,
  };
};
