import { GsmError, NotFoundError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import {
  FileName,
  Id,
  type IntakeInput,
  type Package,
  packageId,
  SHA256_SIDECAR_SUFFIX,
  Version,
} from '../../../core/model/index.js';
import { bareEtag, type PackageObjects } from '../../../core/store/objects.js';
import type { Store } from '../../../core/store/types.js';

/**
 * Intake's first step. An upload names its package (the API made the record); a drop under
 * `incoming/<game>/<version>/<file>` is registered here from the object itself, its hash taken
 * from the object's `sha256` metadata or a `<file>.sha256` sidecar. A sidecar may land after
 * its file: until the workflow's retries run out, a missing hash is IntakeHashPending.
 */

/** Retried by the workflow: the sidecar may not be there yet. */
export class IntakeHashPending extends GsmError {
  constructor(key: string) {
    super('E_INTAKE_HASH_PENDING', `no sha256 metadata or ${SHA256_SIDECAR_SUFFIX} sidecar for ${key} yet`);
  }
}

/** Not retried: this object cannot become a package (bad name, unknown game, taken version). */
export class IntakeRefused extends GsmError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_INTAKE_REFUSED', message, options);
  }
}

export interface RegisterDeps {
  readonly store: Store;
  readonly objects: PackageObjects;
  readonly logger: Logger;
}

export type RegisterEvent = IntakeInput & {
  /** Set by the workflow once it stopped waiting for a hash: register as rejected instead. */
  readonly hashWaitOver?: boolean;
};

export interface RegisterResult {
  readonly packageId: string;
  /** False when there is nothing to verify: a duplicate event, or a package rejected here. */
  readonly verify: boolean;
}

const SIDECAR_MAX_BYTES = 4096;
const SHA256 = /^[0-9a-fA-F]{64}$/;

/** `sha256sum` output (`<hex>  <name>`) or a bare hex digest. */
export const parseSidecar = (text: string): string | undefined => {
  const first = text.trim().split(/\s+/)[0] ?? '';
  return SHA256.test(first) ? first.toLowerCase() : undefined;
};

const checkName = (what: string, schema: typeof Id | typeof Version | typeof FileName, value: string) => {
  const parsed = schema.safeParse(value);
  const problem = parsed.success
    ? value.includes('..')
      ? 'contains ".."'
      : undefined
    : parsed.error.issues[0]?.message;
  if (problem) throw new IntakeRefused(`bad ${what} ${JSON.stringify(value)}: ${problem}`);
};

/**
 * Another object under a package's key than the one it was verified from: a version's bytes
 * never change, so the intake is refused, and the package keeps what it had (origins hold the
 * verified copies; staging again would fail their hash check).
 */
const refuseOverwrite = (pkg: Package, event: RegisterEvent, logger: Logger): void => {
  const etag = bareEtag(event.etag);
  if (pkg.s3ETag === undefined || etag === '' || etag === pkg.s3ETag) return;
  const message =
    `${event.key} was overwritten (ETag ${etag}; package '${pkg.id}' was verified from ETag ${pkg.s3ETag}, ` +
    `and is ${pkg.state}): a version's bytes never change; push the build as a new version`;
  logger.error(
    { packageId: pkg.id, key: event.key, etag, verifiedETag: pkg.s3ETag },
    'package object overwritten',
  );
  throw new IntakeRefused(message);
};

const findPackage = async (store: Store, id: string): Promise<Package | undefined> =>
  store.packages.get(id).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });

const declaredHash = async (
  objects: PackageObjects,
  key: string,
  metadata: Readonly<Record<string, string>>,
): Promise<{ sha256?: string; problem?: string }> => {
  const fromMetadata = metadata.sha256;
  if (fromMetadata !== undefined) {
    const sha256 = parseSidecar(fromMetadata);
    return sha256
      ? { sha256 }
      : { problem: `metadata sha256 ${JSON.stringify(fromMetadata)} is not a SHA-256` };
  }
  const sidecar = await objects.readText(`${key}${SHA256_SIDECAR_SUFFIX}`, SIDECAR_MAX_BYTES);
  if (sidecar === undefined) return {};
  const sha256 = parseSidecar(sidecar);
  return sha256 ? { sha256 } : { problem: `${key}${SHA256_SIDECAR_SUFFIX} does not hold a SHA-256` };
};

const registerIncoming = async (deps: RegisterDeps, event: RegisterEvent): Promise<RegisterResult> => {
  const { store, objects } = deps;
  const game = event.game ?? '';
  const version = event.version ?? '';
  const fileName = event.fileName ?? '';
  checkName('game', Id, game);
  checkName('version', Version, version);
  checkName('file name', FileName, fileName);
  const id = packageId(game, version);

  const existing = await findPackage(store, id);
  if (existing) {
    if (existing.s3Key !== event.key) {
      throw new IntakeRefused(`package '${id}' exists already, from ${existing.s3Key}`);
    }
    refuseOverwrite(existing, event, deps.logger);
    // A redelivered event, or a retry after this step had registered it.
    return { packageId: id, verify: existing.state === 'verifying' };
  }
  await store.games.get(game).catch((error: unknown) => {
    if (error instanceof NotFoundError) throw new IntakeRefused(`unknown game '${game}'`, { cause: error });
    throw error;
  });
  const head = await objects.head(event.key);
  if (!head) throw new IntakeRefused(`${event.key} is gone`);
  const { sha256, problem } = await declaredHash(objects, event.key, head.metadata);
  if (!sha256 && !problem && !event.hashWaitOver) throw new IntakeHashPending(event.key);

  const base = { game, version, fileName, size: head.size, s3Key: event.key };
  if (!sha256) {
    const reason = problem ?? `no sha256 metadata and no ${fileName}${SHA256_SIDECAR_SUFFIX} sidecar arrived`;
    // Created as verifying and moved on at once, so the record carries the reason.
    await store.packages.create({ ...base, state: 'verifying' });
    await store.packages.transition(id, 'rejected', { reason });
    deps.logger.warn({ packageId: id, reason }, 'dropped package rejected');
    return { packageId: id, verify: false };
  }
  await store.packages.create({ ...base, sha256, state: 'verifying' });
  deps.logger.info({ packageId: id, key: event.key }, 'dropped package registered');
  return { packageId: id, verify: true };
};

const loadUpload = async (deps: RegisterDeps, event: RegisterEvent): Promise<RegisterResult> => {
  const id = event.packageId ?? '';
  const pkg = await findPackage(deps.store, id);
  if (!pkg) throw new IntakeRefused(`no package '${id}' was created for ${event.key}`);
  if (pkg.s3Key !== event.key)
    throw new IntakeRefused(`package '${id}' expects ${pkg.s3Key}, not ${event.key}`);
  refuseOverwrite(pkg, event, deps.logger);
  if (pkg.state === 'uploading') {
    // Completed behind the API's back: verify anyway; without a declared hash it is rejected.
    await deps.store.packages.transition(id, 'verifying');
    return { packageId: id, verify: true };
  }
  return { packageId: id, verify: pkg.state === 'verifying' };
};

export const registerOrLoad = (deps: RegisterDeps, event: RegisterEvent): Promise<RegisterResult> =>
  event.kind === 'upload' ? loadUpload(deps, event) : registerIncoming(deps, event);
