import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ConflictError, GsmError, ValidationError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import {
  checkStrategyFits,
  type Package,
  packageId,
  parseStrategy,
  type Release,
  type ReleaseStrategy,
} from '../../../core/model/index.js';
import { newReleaseId } from '../../../core/store/index.js';
import type { Store } from '../../../core/store/types.js';
import { deployParams, ReleaseRefusedError, resolveReleaseTargets } from './plan.js';

export interface StartReleaseDeps {
  readonly store: Store;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly logger?: Logger;
}

export interface StartReleaseRequest {
  readonly package: { readonly game: string; readonly version: string };
  readonly target: Release['target'];
  readonly strategy?: unknown;
  /** A fixed id makes the start idempotent by itself (auto-release: one per package). */
  readonly id?: string;
  readonly createdBy?: string;
  readonly idempotencyKey?: string;
}

/**
 * The bad input the issue names, refused before anything starts: an unknown or unstaged
 * package (NotFoundError, ConflictError), a target of no or unknown hosts, a strategy that does
 * not fit the target (ValidationError).
 */
export const checkReleaseRequest = async (
  store: Store,
  request: Pick<StartReleaseRequest, 'package' | 'target' | 'strategy'>,
): Promise<{ pkg: Package; strategy: ReleaseStrategy; hostIds: string[] }> => {
  const strategy = parseStrategy(request.strategy);
  const pkg = await store.packages.get(packageId(request.package.game, request.package.version));
  try {
    deployParams(pkg, strategy);
  } catch (error) {
    if (error instanceof ReleaseRefusedError) throw new ConflictError(error.message);
    throw error;
  }
  let hostIds: string[];
  try {
    hostIds = await resolveReleaseTargets(store, request.target);
  } catch (error) {
    if (error instanceof ReleaseRefusedError) throw new ValidationError(error.message);
    throw error;
  }
  checkStrategyFits(strategy, hostIds.length);
  return { pkg, strategy, hostIds };
};

/** An earlier request's release, when this one repeats it (same id, or same Idempotency-Key). */
const earlier = async (store: Store, request: StartReleaseRequest): Promise<Release | undefined> => {
  if (request.id !== undefined) return store.releases.find(request.id);
  if (request.idempotencyKey !== undefined) {
    return store.releases.findByIdempotencyKey(request.createdBy ?? '', request.idempotencyKey);
  }
  return undefined;
};

/** How long a refused request waits for a concurrent repeat's release to appear. */
const REPEAT_WAIT_MS = 2_000;

const concurrentRepeat = async (store: Store, request: StartReleaseRequest): Promise<Release | undefined> => {
  if (request.idempotencyKey === undefined) return undefined;
  const deadline = Date.now() + REPEAT_WAIT_MS;
  for (;;) {
    const found = await earlier(store, request);
    if (found || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/**
 * Starts a release: checks the request, takes every target host's lock (ConflictError naming
 * the release that holds a busy host: nothing is created, the locks taken are given back),
 * records the release pending with its resolved hosts, and starts the release machine named
 * by the release id, so a retry names the same execution and at most one ever runs. A repeat
 * (same id or Idempotency-Key) returns the first release, starting it if that never happened.
 */
export const startRelease = async (
  deps: StartReleaseDeps,
  request: StartReleaseRequest,
): Promise<Release> => {
  const { store } = deps;
  const { pkg, strategy, hostIds } = await checkReleaseRequest(store, request);
  let release = await earlier(store, request);
  const id = request.id ?? newReleaseId();
  if (!release) {
    try {
      await store.hostLocks.acquire(id, hostIds);
    } catch (error) {
      // The hosts may be busy in the release a concurrent repeat of this very request creates.
      release = error instanceof ConflictError ? await concurrentRepeat(store, request) : undefined;
      if (!release) throw error;
    }
  }
  if (!release) {
    try {
      release = await store.releases.create({
        id,
        game: pkg.game,
        version: pkg.version,
        packageId: pkg.id,
        target: request.target,
        hostIds,
        strategy,
        createdBy: request.createdBy,
        idempotencyKey: request.idempotencyKey,
      });
    } catch (error) {
      // A fixed id another request created meanwhile: the locks are that release's, keep them.
      if (error instanceof ConflictError && request.id !== undefined) release = await store.releases.get(id);
      else {
        await store.hostLocks.release(id, hostIds);
        throw error;
      }
    }
    // The key was claimed by a concurrent repeat: its release holds the hosts, not this id.
    if (release.id !== id) await store.hostLocks.release(id, hostIds);
  }
  if (release.state !== 'pending') return release;
  try {
    await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: release.id,
        input: JSON.stringify({ releaseId: release.id }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) {
      // With a key or a fixed id, the retry starts it; otherwise nothing ever would.
      if (request.idempotencyKey === undefined && request.id === undefined) {
        await store.releases.transition(release.id, 'failed', {
          reason: 'the release workflow could not be started',
        });
        await store.hostLocks.release(release.id, release.hostIds);
      }
      throw new GsmError('E_UNAVAILABLE', 'the release workflow could not be started; try again', {
        cause: error,
      });
    }
  }
  deps.logger?.info({ releaseId: release.id, package: pkg.id, hosts: hostIds.length }, 'release started');
  return release;
};
