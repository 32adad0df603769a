import { createHash } from 'node:crypto';
import { GsmError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import { jobIdFor, type Origin, type Package, type RelayTaskInput } from '../../../core/model/index.js';
import type { PackageObjects } from '../../../core/store/objects.js';
import type { Store } from '../../../core/store/types.js';

/**
 * Staging, step by step. `planStaging` turns origins into relay shards of `stage` jobs (one
 * shard per origin, so the workflow's Map bounds how many origins copy at once); the origin
 * agent downloads the presigned GET, verifies the SHA-256 and publishes atomically under
 * `packages/<game>/<version>/<file>` in its web root.
 */

/** Presigned GETs outlive a slow origin's download, and not much more. */
export const STAGE_URL_TTL_SEC = 6 * 3600;
/** A stage job taking longer than this failed (the relay marks it timed out). */
export const STAGE_JOB_TIMEOUT_SEC = 3 * 3600;

/**
 * The stored object is no longer the one the package was verified from (written again under
 * its key): nothing is staged from it, and no retry can change that (PERMANENT_TASK_ERRORS).
 */
export class PackageObjectChanged extends GsmError {
  constructor(pkg: Pick<Package, 'id' | 's3Key' | 's3ETag'>, now: string | undefined) {
    super(
      'E_OBJECT_CHANGED',
      `${pkg.s3Key} is not the object package '${pkg.id}' was verified from (ETag ${pkg.s3ETag}, now ` +
        `${now ?? 'gone'}): it was written again, so nothing is staged from it; push the build as a new version`,
    );
  }
}

export interface StagingDeps {
  readonly store: Store;
  readonly objects: PackageObjects;
  readonly logger: Logger;
}

export interface PlanStagingEvent {
  readonly packageId: string;
  /** Ties job ids to this execution: staging the same package again later makes new jobs. */
  readonly executionName: string;
  readonly attempt: number;
  /** Only these origins (a retry); all origins when absent. */
  readonly originIds?: readonly string[];
  /** What earlier attempts learnt, carried to the verifier. */
  readonly failures?: Readonly<Record<string, string>>;
  /** Origins an earlier attempt verified. */
  readonly verifiedIds?: readonly string[];
}

export interface StagingPlan {
  readonly packageId: string;
  readonly executionName: string;
  readonly attempt: number;
  /** True when there is nothing (more) to stage. */
  readonly done: boolean;
  readonly shards: RelayTaskInput[];
  readonly originIds: string[];
  readonly failures: Readonly<Record<string, string>>;
  readonly verifiedIds: string[];
}

/** The path a staged package has below an origin's web root and base URL. */
export const originPath = (pkg: Pick<Package, 'game' | 'version' | 'fileName'>): string =>
  ['packages', pkg.game, pkg.version, pkg.fileName].map(encodeURIComponent).join('/');

export const originUrl = (
  origin: Pick<Origin, 'baseUrl'>,
  pkg: Pick<Package, 'game' | 'version' | 'fileName'>,
) => `${origin.baseUrl.replace(/\/+$/, '')}/${originPath(pkg)}`;

export const allOrigins = async (store: Store): Promise<Origin[]> => {
  const origins: Origin[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.origins.list({ cursor, limit: 500 });
    origins.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor);
  return origins;
};

export const planStaging = async (deps: StagingDeps, event: PlanStagingEvent): Promise<StagingPlan> => {
  const { store, objects, logger } = deps;
  const pkg = await store.packages.get(event.packageId);
  const origins = (await allOrigins(store)).filter(
    (o) => event.originIds === undefined || event.originIds.includes(o.id),
  );
  const base = {
    packageId: pkg.id,
    executionName: event.executionName,
    attempt: event.attempt,
    failures: event.failures ?? {},
    verifiedIds: [...(event.verifiedIds ?? [])],
  };
  if (origins.length === 0 || !pkg.sha256) return { ...base, done: true, shards: [], originIds: [] };
  if (pkg.state === 'verified') {
    await store.packages.transition(pkg.id, 'staging', { stagingExecution: event.executionName });
  }
  // After the move to staging, so that the Catch's abandon puts this reason on the package.
  if (pkg.s3ETag !== undefined) {
    const now = await objects.head(pkg.s3Key);
    if (now?.etag !== pkg.s3ETag) throw new PackageObjectChanged(pkg, now?.etag);
  }

  const url = await objects.getUrl(pkg.s3Key, STAGE_URL_TTL_SEC);
  const run = createHash('sha256').update(event.executionName).digest('hex').slice(0, 10);
  // Job ids cross the agent protocol, which allows [A-Za-z0-9._:-] and 128 characters: no `@` or `+`.
  const slug = pkg.id.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 60);
  const parentId = `stage.${slug}.${run}.${event.attempt}`;
  const shards: RelayTaskInput[] = origins.map((origin) => ({
    parentType: 'package',
    parentId,
    jobs: [
      {
        jobId: jobIdFor(parentId, origin.hostId, 'stage'),
        hostId: origin.hostId,
        action: 'stage',
        params: {
          url,
          sha256: pkg.sha256,
          size: pkg.size,
          game: pkg.game,
          version: pkg.version,
          file: pkg.fileName,
        },
      },
    ],
    maxConcurrency: 1,
    maxErrors: origins.length,
    jobTimeoutSec: STAGE_JOB_TIMEOUT_SEC,
  }));
  logger.info(
    { packageId: pkg.id, origins: origins.map((o) => o.id), attempt: event.attempt },
    'staging planned',
  );
  return { ...base, done: false, shards, originIds: origins.map((o) => o.id) };
};
