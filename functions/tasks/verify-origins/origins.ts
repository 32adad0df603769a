import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Origin, Package } from '../../../core/model/index.js';
import { sha256OfStream } from '../../../core/sha256-worker.js';
import {
  allOrigins,
  originUrl,
  planStaging,
  type StagingDeps,
  type StagingPlan,
} from '../plan-staging/plan.js';

/**
 * After the stage jobs: what each origin actually serves decides, not what its agent said.
 * HEAD must give the package's size and, unless the origin's check is `size`, a GET must hash
 * to its SHA-256. A missing or corrupt copy is staged once more; after that the origin is
 * excluded and reported on the package.
 */

export const MAX_STAGE_ATTEMPTS = 2;
const CHECKS_AT_ONCE = 4;

export interface VerifyOriginsEvent {
  readonly plan: StagingPlan;
  /** The Map's results: the relay's output per shard, or the error a shard ended with. */
  readonly results: readonly unknown[];
}

/** Why each host's stage job failed, from the relay outputs (or the caught shard errors). */
const jobFailures = (results: readonly unknown[]): Map<string, string> => {
  const failures = new Map<string, string>();
  for (const result of results) {
    const outcomes = (result as { results?: unknown }).results;
    if (!Array.isArray(outcomes)) continue;
    for (const o of outcomes as { hostId?: string; state?: string; error?: { message?: string } }[]) {
      if (o.hostId && o.state !== 'succeeded') {
        failures.set(o.hostId, `stage job ${o.state}${o.error?.message ? `: ${o.error.message}` : ''}`);
      }
    }
  }
  return failures;
};

/** undefined when the origin serves the package intact; otherwise what is wrong. */
export const checkOrigin = async (
  url: string,
  pkg: Pick<Package, 'size' | 'sha256'>,
  check: Origin['check'] = 'sha256',
): Promise<string | undefined> => {
  try {
    const head = await fetch(url, { method: 'HEAD' });
    if (!head.ok) return `HEAD ${url} answered ${head.status}`;
    const length = Number(head.headers.get('content-length'));
    if (length !== pkg.size) return `HEAD ${url} gives ${length} bytes, the package has ${pkg.size}`;
    if (check === 'size') return undefined;
    const got = await fetch(url);
    if (!got.ok || !got.body) return `GET ${url} answered ${got.status}`;
    // Hashed on a worker thread: several origins are checked at once, each on its own core.
    const { sha256, size } = await sha256OfStream(Readable.fromWeb(got.body as WebReadableStream));
    if (size !== pkg.size) return `GET ${url} gave ${size} bytes, the package has ${pkg.size}`;
    if (sha256 !== pkg.sha256)
      return `hash mismatch at ${url}: sha256 ${sha256}, the package has ${pkg.sha256}`;
    return undefined;
  } catch (error) {
    return `cannot fetch ${url}: ${(error as Error).message}`;
  }
};

const inBatches = async <T, R>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> => {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return out;
};

export const verifyOrigins = async (deps: StagingDeps, event: VerifyOriginsEvent): Promise<StagingPlan> => {
  const { store, logger } = deps;
  const { plan } = event;
  const pkg = await store.packages.get(plan.packageId);
  const origins = await allOrigins(store);
  const byId = new Map(origins.map((o) => [o.id, o]));
  const jobs = jobFailures(event.results);

  const failures: Record<string, string> = { ...plan.failures };
  const verifiedIds = new Set(plan.verifiedIds);
  await inBatches(plan.originIds, CHECKS_AT_ONCE, async (id) => {
    const origin = byId.get(id);
    if (!origin) {
      failures[id] = 'the origin was removed while staging';
      return;
    }
    const problem = await checkOrigin(originUrl(origin, pkg), pkg, origin.check);
    if (problem === undefined) {
      verifiedIds.add(id);
      delete failures[id];
    } else {
      const job = jobs.get(origin.hostId);
      failures[id] = job ? `${problem} (${job})` : problem;
    }
  });

  const failedIds = plan.originIds.filter((id) => !verifiedIds.has(id));
  if (failedIds.length > 0 && plan.attempt < MAX_STAGE_ATTEMPTS) {
    logger.warn({ packageId: pkg.id, failures }, 'origins failed verification; staging them once more');
    return planStaging(deps, {
      packageId: pkg.id,
      executionName: plan.executionName,
      attempt: plan.attempt + 1,
      originIds: failedIds,
      failures,
      verifiedIds: [...verifiedIds],
    });
  }

  const records: Package['origins'] = [...verifiedIds, ...Object.keys(failures)]
    .filter((id, i, all) => all.indexOf(id) === i)
    .map((id) => {
      const origin = byId.get(id);
      const url = origin ? originUrl(origin, pkg) : '';
      return verifiedIds.has(id)
        ? { id, url, verified: true }
        : { id, url, verified: false, error: failures[id] };
    });
  if (verifiedIds.size > 0) {
    await store.packages.transition(pkg.id, 'staged', { origins: records });
    if (failedIds.length > 0) logger.warn({ packageId: pkg.id, failures }, 'origins excluded after a retry');
  } else {
    await store.packages.transition(pkg.id, 'verified', {
      origins: records,
      reason: `staging failed on every origin: ${Object.entries(failures)
        .map(([id, why]) => `${id}: ${why}`)
        .join('; ')}`,
    });
  }
  logger.info({ packageId: pkg.id, verified: [...verifiedIds], excluded: failedIds }, 'staging finished');
  return { ...plan, done: true, shards: [], originIds: [], failures, verifiedIds: [...verifiedIds] };
};
