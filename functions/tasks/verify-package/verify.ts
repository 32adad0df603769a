import { NotFoundError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import type { Package } from '../../../core/model/index.js';
import { sha256OfStream } from '../../../core/sha256-worker.js';
import type { PackageObjects } from '../../../core/store/objects.js';
import type { Store } from '../../../core/store/types.js';

/**
 * Streams the stored object through SHA-256 in constant memory (read through S3's GetObject,
 * as in AWS; the hash runs beside the read, not after it) and settles the package: verified,
 * or rejected with the reason.
 */

export interface VerifyDeps {
  readonly store: Store;
  readonly objects: PackageObjects;
  readonly logger: Logger;
}

export interface VerifyEvent {
  readonly packageId: string;
  /**
   * The intake execution asking: it claims the verification first, so a second intake of the
   * same package leaves the hashing to the first. Unset (executions started before it was
   * passed): verified without a claim.
   */
  readonly executionName?: string;
  /** Set when an earlier attempt failed for good: the package is rejected with this reason. */
  readonly failure?: string;
}

export interface VerifyResult {
  readonly packageId: string;
  readonly state: Package['state'];
  readonly reason?: string;
  readonly sha256?: string;
}

/** Reading the object and hashing it overlap (the hash runs on a worker thread). */
const hashObject = async (
  objects: PackageObjects,
  key: string,
): Promise<{ sha256: string; size: number; etag: string }> => {
  const { body, etag } = await objects.read(key);
  return { ...(await sha256OfStream(body)), etag };
};

const result = (pkg: Package): VerifyResult => ({
  packageId: pkg.id,
  state: pkg.state,
  ...(pkg.reason ? { reason: pkg.reason } : {}),
  ...(pkg.sha256 ? { sha256: pkg.sha256 } : {}),
});

export const verifyPackage = async (deps: VerifyDeps, event: VerifyEvent): Promise<VerifyResult> => {
  const { store, objects, logger } = deps;
  const { executionName } = event;
  let pkg = await store.packages.get(event.packageId);
  // A retry or a duplicate event: the first run settled it.
  if (pkg.state !== 'verifying') return result(pkg);
  if (executionName !== undefined) {
    const claim = await store.packages.claimVerification(pkg.id, executionName);
    pkg = claim.pkg;
    if (!claim.claimed) {
      if (pkg.state === 'verifying') {
        logger.info(
          { packageId: pkg.id, verifier: pkg.verifyingExecution },
          'another intake is verifying it',
        );
      }
      return result(pkg);
    }
  }
  const guard = executionName === undefined ? {} : { verifier: executionName };
  const reject = async (reason: string) => {
    logger.warn({ packageId: pkg.id, reason }, 'package rejected');
    return result(await store.packages.transition(pkg.id, 'rejected', { reason }, guard));
  };
  if (event.failure !== undefined) return reject(`verification failed: ${event.failure}`);
  if (!pkg.sha256) return reject('no SHA-256 was declared for it');

  let actual: { sha256: string; size: number; etag: string };
  try {
    actual = await hashObject(objects, pkg.s3Key);
  } catch (error) {
    if (error instanceof NotFoundError) return reject(`the stored object ${pkg.s3Key} is missing`);
    throw error;
  }
  // Written again while it was hashed: the hash says nothing of what is stored now, and the
  // newer object's own intake finds this one holding the verification and leaves it.
  const now = await objects.head(pkg.s3Key);
  if (now?.etag !== actual.etag) {
    return reject(
      `${pkg.s3Key} was overwritten while it was verified (ETag ${actual.etag}, now ${now?.etag ?? 'gone'}): ` +
        `a version's bytes never change; delete the package and push it again`,
    );
  }
  if (actual.size !== pkg.size) {
    return reject(`size mismatch: declared ${pkg.size} bytes, stored ${actual.size}`);
  }
  if (actual.sha256 !== pkg.sha256) {
    return reject(`hash mismatch: declared sha256 ${pkg.sha256}, stored object has ${actual.sha256}`);
  }
  logger.info({ packageId: pkg.id, size: actual.size, etag: actual.etag }, 'package verified');
  return result(await store.packages.transition(pkg.id, 'verified', { s3ETag: actual.etag }, guard));
};
