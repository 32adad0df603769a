import { z } from 'zod';
import { Id, Sha256, Timestamp, Version } from './common.js';

export const PackageState = z.enum([
  'uploading',
  'verifying',
  'verified',
  'staging',
  'staged',
  'rejected',
  'deleting',
]);
export type PackageState = z.infer<typeof PackageState>;

/**
 * Forward-only: a stale writer can never move a package back. `rejected` leads only to
 * `deleting`, and `deleting` nowhere: the record is removed once the origins' copies are.
 * A package is never deleted while intake works on it (verifying, staging).
 */
export const PACKAGE_TRANSITIONS: Readonly<Record<PackageState, readonly PackageState[]>> = {
  uploading: ['verifying', 'rejected', 'deleting'],
  verifying: ['verified', 'rejected'],
  verified: ['staging', 'rejected', 'deleting'],
  staging: ['staged', 'verified', 'rejected'],
  staged: ['staging', 'deleting'],
  rejected: ['deleting'],
  deleting: [],
};

export const FileName = z
  .string()
  .min(1)
  .max(255)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._+-]*$/,
    'a file name has no path separators and starts with a letter or digit',
  );

export const PackageOrigin = z.object({
  id: Id,
  url: z.string(),
  verified: z.boolean(),
  error: z.string().optional(),
});

/**
 * What the game's auto-release policy made of a staged package: the release it started, or
 * why it was refused (busy hosts, a target that matches nothing, an unfit strategy).
 */
export const PackageAutoRelease = z.union([
  z.object({ releaseId: z.string().min(1), at: Timestamp }).strict(),
  z.object({ refused: z.string().min(1), at: Timestamp }).strict(),
]);
export type PackageAutoRelease = z.infer<typeof PackageAutoRelease>;

export const Package = z.object({
  id: z.string().min(1).max(128),
  game: Id,
  version: Version,
  fileName: FileName,
  size: z.number().int().min(0),
  sha256: Sha256.optional(),
  s3Key: z.string().min(1),
  /**
   * The ETag (bare) of the object at `s3Key` whose bytes were verified. A version's bytes never
   * change: an intake of another object under the same key is refused as an overwrite.
   */
  s3ETag: z.string().min(1).optional(),
  state: PackageState,
  reason: z.string().optional(),
  origins: z.array(PackageOrigin),
  /** The S3 multipart upload of an API upload, while one exists (uploading, then kept for resume checks). */
  uploadId: z.string().min(1).optional(),
  /** Bytes per part of that upload; the last part may be shorter. */
  partSize: z.number().int().min(1).optional(),
  /** Set by auto-release, whatever the package's state; absent when no policy applied. */
  autoRelease: PackageAutoRelease.optional(),
  /**
   * The intake execution that moved it to staging: a package whose staging execution ended
   * unfinished is settled by functions/execution-ended only if that execution was this one.
   */
  stagingExecution: z.string().min(1).optional(),
  /**
   * The intake execution hashing it, claimed while `verifying`: a second intake of the same
   * package leaves it to that one, and only that execution's unfinished end rejects it.
   */
  verifyingExecution: z.string().min(1).optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Package = z.infer<typeof Package>;

export const packageId = (game: string, version: string): string => `${game}@${version}`;
