import { ConflictError, NotFoundError, StateConflictError, ValidationError } from '../../core/errors.js';
import { type Package, uploadKey } from '../../core/model/index.js';
import type { PackageObjects, StoredPart } from '../../core/store/objects.js';
import type { Store } from '../../core/store/types.js';

/**
 * Package uploads through presigned multipart URLs, and package removal. The routes in
 * routes/packages.ts are thin over these.
 */

const MiB = 1024 * 1024;
/** S3 needs ≥ 5 MiB per part but the last; 8 MiB keeps request overhead low on fast links. */
export const MIN_PART_SIZE = 8 * MiB;
export const MAX_PARTS = 10_000;
/** S3's largest object. */
export const MAX_PACKAGE_SIZE = 5 * 1024 * 1024 * MiB;
/** Presigned part URLs live an hour: long enough for a window of parts, short if leaked. */
export const PART_URL_TTL_SEC = 3600;
export const DEFAULT_URL_WINDOW = 100;
export const MAX_URL_WINDOW = 1000;

/** Whole MiB, at least 8 MiB, and never more than 10,000 parts. */
export const partSizeFor = (size: number): number =>
  Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);

export const partCountFor = (size: number, partSize: number): number =>
  Math.max(1, Math.ceil(size / partSize));

export const expectedPartSize = (size: number, partSize: number, partNumber: number): number =>
  Math.min(partSize, size - (partNumber - 1) * partSize);

export interface UploadDeps {
  readonly store: Store;
  readonly objects: PackageObjects;
}

export interface UploadStatus {
  readonly uploadId: string;
  readonly size: number;
  readonly partSize: number;
  readonly partCount: number;
  /** Parts S3 holds already, with their sizes: a resuming client skips these. */
  readonly uploaded: StoredPart[];
  /** Presigned PUT URLs for missing parts, in order, at most `limit` of them. */
  readonly urls: { partNumber: number; url: string }[];
  /** The first missing part after this window (ask again with `from`), or null. */
  readonly nextPart: number | null;
}

export interface NewUpload {
  readonly game: string;
  readonly version: string;
  readonly fileName: string;
  readonly size: number;
  readonly sha256?: string;
}

const uploadOf = (pkg: Package): { uploadId: string; partSize: number } => {
  if (!pkg.uploadId || !pkg.partSize) {
    throw new StateConflictError<Package>(`package '${pkg.id}' was not uploaded through the API`, pkg);
  }
  return { uploadId: pkg.uploadId, partSize: pkg.partSize };
};

export const uploadStatus = async (
  { objects }: UploadDeps,
  pkg: Package,
  window: { from?: number; limit?: number } = {},
): Promise<UploadStatus> => {
  if (pkg.state !== 'uploading') {
    throw new StateConflictError<Package>(`package '${pkg.id}' is ${pkg.state}, no longer uploading`, pkg);
  }
  const { uploadId, partSize } = uploadOf(pkg);
  const partCount = partCountFor(pkg.size, partSize);
  const uploaded = await objects.listParts(pkg.s3Key, uploadId);
  // A part of the wrong size (a different file, a torn client) counts as missing: it is sent again.
  const good = new Set(
    uploaded
      .filter(
        (p) => p.partNumber <= partCount && p.size === expectedPartSize(pkg.size, partSize, p.partNumber),
      )
      .map((p) => p.partNumber),
  );
  const limit = Math.min(window.limit ?? DEFAULT_URL_WINDOW, MAX_URL_WINDOW);
  const missing: number[] = [];
  let nextPart: number | null = null;
  for (let n = Math.max(1, window.from ?? 1); n <= partCount; n++) {
    if (good.has(n)) continue;
    if (missing.length === limit) {
      nextPart = n;
      break;
    }
    missing.push(n);
  }
  const urls = await objects.partUrls(pkg.s3Key, uploadId, missing, PART_URL_TTL_SEC);
  return {
    uploadId,
    size: pkg.size,
    partSize,
    partCount,
    uploaded: uploaded.filter((p) => good.has(p.partNumber)),
    urls,
    nextPart,
  };
};

/**
 * The record is written only after S3 has the upload, and the upload is aborted when the
 * record cannot be written: a failed create leaves nothing behind.
 */
export const createUpload = async (
  deps: UploadDeps,
  input: NewUpload,
): Promise<{ package: Package; upload: UploadStatus }> => {
  const { store, objects } = deps;
  await store.games.get(input.game).catch((error: unknown) => {
    if (!(error instanceof NotFoundError)) throw error;
    throw new ValidationError(`unknown game '${input.game}'`, [
      { path: 'game', message: 'no such game; add it with `gsm games add`' },
    ]);
  });
  const s3Key = uploadKey(`${input.game}@${input.version}`, input.fileName);
  const partSize = partSizeFor(input.size);
  const existing = await store.packages.get(`${input.game}@${input.version}`).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  if (existing) {
    throw new ConflictError(
      `package '${existing.id}' already exists (${existing.state}); resume it with GET /v1/packages/${existing.id}/upload, or delete it first`,
    );
  }
  const uploadId = await objects.createUpload(s3Key, input.sha256 ? { sha256: input.sha256 } : {});
  let pkg: Package;
  try {
    pkg = await store.packages.create({ ...input, s3Key, uploadId, partSize, state: 'uploading' });
  } catch (error) {
    await objects.abortUpload(s3Key, uploadId).catch(() => {});
    throw error;
  }
  return { package: pkg, upload: await uploadStatus(deps, pkg) };
};

export interface CompleteInput {
  readonly sha256?: string;
  readonly parts?: readonly { partNumber: number; etag: string }[];
}

const checkParts = (
  pkg: Package,
  partSize: number,
  stored: StoredPart[],
  claimed: CompleteInput['parts'],
) => {
  const partCount = partCountFor(pkg.size, partSize);
  const storedBytes = stored.reduce((sum, p) => sum + p.size, 0);
  const issues = [];
  for (let n = 1; n <= partCount; n++) {
    const part = stored.find((p) => p.partNumber === n);
    const want = expectedPartSize(pkg.size, partSize, n);
    if (!part) issues.push({ path: `parts.${n}`, message: `part ${n} is missing` });
    else if (part.size !== want) {
      issues.push({ path: `parts.${n}`, message: `part ${n} has ${part.size} bytes, expected ${want}` });
    }
  }
  for (const extra of stored.filter((p) => p.partNumber > partCount)) {
    issues.push({
      path: `parts.${extra.partNumber}`,
      message: `part ${extra.partNumber} is beyond the declared size`,
    });
  }
  for (const claim of claimed ?? []) {
    const part = stored.find((p) => p.partNumber === claim.partNumber);
    if (part && part.etag !== claim.etag.replace(/^"|"$/g, '')) {
      issues.push({ path: `parts.${claim.partNumber}`, message: 'the ETag differs from the stored part' });
    }
  }
  if (issues.length > 0) {
    throw new ValidationError(
      `size mismatch: S3 holds ${storedBytes} bytes in ${stored.length} parts, the package declares ${pkg.size} bytes in ${partCount}`,
      issues,
    );
  }
};

/**
 * Completing twice is idempotent: once the package has left `uploading`, complete returns it
 * as it is (and finishes the S3 side if a previous attempt stopped between the two writes).
 */
export const completeUpload = async (
  { store, objects }: UploadDeps,
  id: string,
  input: CompleteInput,
): Promise<Package> => {
  const pkg = await store.packages.get(id);
  const { uploadId, partSize } = uploadOf(pkg);
  if (pkg.state === 'rejected') {
    throw new StateConflictError<Package>(`package '${id}' was rejected: ${pkg.reason ?? 'no reason'}`, pkg);
  }
  if (pkg.state !== 'uploading') {
    if (pkg.state === 'verifying' && !(await objects.head(pkg.s3Key))) {
      const stored = await objects.listParts(pkg.s3Key, uploadId);
      await objects.completeUpload(pkg.s3Key, uploadId, stored);
    }
    return pkg;
  }
  if (input.sha256 && pkg.sha256 && input.sha256 !== pkg.sha256) {
    throw new ValidationError('sha256 differs from the one declared when the upload began', [
      { path: 'sha256', message: `declared ${pkg.sha256}` },
    ]);
  }
  const sha256 = input.sha256 ?? pkg.sha256;
  if (!sha256) {
    throw new ValidationError('declare the package SHA-256 (here or when creating it): intake verifies it', [
      { path: 'sha256', message: 'required' },
    ]);
  }
  const stored = await objects.listParts(pkg.s3Key, uploadId);
  checkParts(pkg, partSize, stored, input.parts);
  // The record moves first: the object-created event may reach intake before this returns.
  const verifying = await store.packages.transition(id, 'verifying', { sha256 });
  await objects.completeUpload(pkg.s3Key, uploadId, stored);
  return verifying;
};
