import type { SFNClient } from '@aws-sdk/client-sfn';
import { GsmError, NotFoundError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import { nowIso, type Package, type PackageAutoRelease } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { startRelease } from '../plan-release/start.js';

export interface AutoReleaseDeps {
  readonly store: Store;
  readonly sfn: SFNClient;
  /** The release machine; without it (not deployed) nothing is started and the reason is logged. */
  readonly stateMachineArn: string | undefined;
  readonly logger: Logger;
}

export interface AutoReleaseResult {
  readonly packageId: string;
  readonly started: boolean;
  readonly releaseId?: string;
  /** Why no release started, when none did. */
  readonly reason?: string;
}

/** Who the releases auto-release starts are created by (no API key is involved). */
export const AUTO_RELEASE_CREATOR = 'auto-release';

/**
 * One release per package, whatever the retries: named by the package and when it was
 * registered, so a package removed and uploaded again under the same version ships again.
 */
export const autoReleaseId = (pkg: Pick<Package, 'game' | 'version' | 'createdAt'>): string => {
  const stamp = pkg.createdAt.replace(/[-:TZ.]/g, '').slice(0, 17);
  return `auto-${pkg.game}-${pkg.version}-${stamp}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 80);
};

/**
 * AutoRelease, the intake workflow's last state: when the game's policy says autoRelease, a
 * staged package starts a release of itself to the policy's target. It never fails the intake:
 * a busy host, a target that matches nothing or a strategy that no longer fits is recorded on
 * the package (`autoRelease.refused`, where an operator looks) and logged, and the package
 * stays staged for a release by hand. A started release is recorded there too.
 */
export const autoRelease = async (
  { store, sfn, stateMachineArn, logger }: AutoReleaseDeps,
  event: { packageId: string },
): Promise<AutoReleaseResult> => {
  const skip = (reason: string, level: 'info' | 'warn' = 'info'): AutoReleaseResult => {
    logger[level]({ packageId: event.packageId, reason }, 'no auto-release');
    return { packageId: event.packageId, started: false, reason };
  };
  // A package deleted meanwhile has no record left to write on: nothing to record.
  const record = (outcome: PackageAutoRelease) =>
    store.packages.setAutoRelease(event.packageId, outcome).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
  const refuse = async (reason: string): Promise<AutoReleaseResult> => {
    await record({ refused: reason, at: nowIso() });
    return skip(reason, 'warn');
  };
  const pkg = await store.packages.get(event.packageId);
  if (pkg.state !== 'staged') return skip(`the package is ${pkg.state}, not staged`);
  const game = await store.games.get(pkg.game).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  const policy = game?.policy;
  if (!policy?.autoRelease) return skip(`game '${pkg.game}' has no auto-release policy`);
  if (!stateMachineArn) {
    return refuse('the release workflow is not deployed here (GSM_STATE_MACHINE_RELEASE)');
  }
  try {
    const release = await startRelease(
      { store, sfn, stateMachineArn, logger },
      {
        id: autoReleaseId(pkg),
        package: { game: pkg.game, version: pkg.version },
        target: policy.target,
        strategy: policy.strategy,
        createdBy: AUTO_RELEASE_CREATOR,
      },
    );
    await record({ releaseId: release.id, at: nowIso() });
    logger.info({ packageId: pkg.id, releaseId: release.id }, 'auto-release started');
    return { packageId: pkg.id, started: true, releaseId: release.id };
  } catch (error) {
    // Refusals (busy host, bad target, unfit strategy) are the policy's problem, not the upload's.
    if (error instanceof GsmError && error.code !== 'E_UNAVAILABLE') {
      return refuse(`auto-release of ${pkg.id} refused: ${error.message}`);
    }
    throw error;
  }
};
