import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { GsmError, NotFoundError, ValidationError } from '../errors.js';

/**
 * The packages bucket, as gsm uses it: multipart uploads driven by presigned part URLs,
 * reads for verification, presigned GETs for origins. S3 errors stop here and leave as core
 * errors, like DynamoDB's do in the rest of the store.
 */

export interface StoredPart {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
}

export interface ObjectHead {
  readonly size: number;
  /** Bare (unquoted): what S3 events carry, so the two compare as they are. */
  readonly etag: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** An object being read: its bytes, and the ETag of exactly those bytes. */
export interface ObjectRead {
  readonly body: Readable;
  readonly etag: string;
}

export interface PackageObjects {
  readonly bucket: string;
  /** Starts a multipart upload; returns its id. */
  createUpload(key: string, metadata?: Readonly<Record<string, string>>): Promise<string>;
  /** Presigned UploadPart URLs, one per part number. */
  partUrls(
    key: string,
    uploadId: string,
    partNumbers: readonly number[],
    expiresInSec: number,
  ): Promise<{ partNumber: number; url: string }[]>;
  /** Every stored part, in order; NotFoundError when the upload no longer exists. */
  listParts(key: string, uploadId: string): Promise<StoredPart[]>;
  /** ValidationError when a part is missing or has another ETag; NotFoundError when the upload is gone. */
  completeUpload(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<void>;
  /** Idempotent: an upload that is gone already is not an error. */
  abortUpload(key: string, uploadId: string): Promise<void>;
  /** Size, ETag and user metadata, or undefined when there is no such object. */
  head(key: string): Promise<ObjectHead | undefined>;
  /** A small object's text (a sidecar), or undefined when absent; refuses more than `maxBytes`. */
  readText(key: string, maxBytes: number): Promise<string | undefined>;
  /** The object's bytes as a stream, with their ETag; NotFoundError when absent. */
  read(key: string): Promise<ObjectRead>;
  /** A presigned GET, for origins that download without AWS credentials. */
  getUrl(key: string, expiresInSec: number): Promise<string>;
  /** Idempotent. */
  remove(key: string): Promise<void>;
}

const nameOf = (error: unknown): string => (error as { name?: string }).name ?? '';
const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

const isMissingObject = (error: unknown): boolean =>
  ['NoSuchKey', 'NotFound'].includes(nameOf(error)) || statusOf(error) === 404;

const unavailable = (what: string, error: unknown): GsmError =>
  new GsmError('E_UNAVAILABLE', `S3 ${what} failed (${nameOf(error) || 'error'})`, { cause: error });

/** ETags are quoted on the wire; compare them bare. */
export const bareEtag = (etag: string): string => etag.replace(/^"|"$/g, '');

export const createPackageObjects = ({ s3, bucket }: { s3: S3Client; bucket: string }): PackageObjects => {
  const uploadGone = (key: string, error: unknown) =>
    new NotFoundError('multipart upload', key, { cause: error });

  return {
    bucket,
    async createUpload(key, metadata = {}) {
      try {
        const out = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: { ...metadata } }),
        );
        if (!out.UploadId) throw new GsmError('E_INTERNAL', 'S3 returned no upload id');
        return out.UploadId;
      } catch (error) {
        if (error instanceof GsmError) throw error;
        throw unavailable('CreateMultipartUpload', error);
      }
    },
    async partUrls(key, uploadId, partNumbers, expiresInSec) {
      return Promise.all(
        partNumbers.map(async (partNumber) => ({
          partNumber,
          url: await getSignedUrl(
            s3,
            new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
            { expiresIn: expiresInSec },
          ),
        })),
      );
    },
    async listParts(key, uploadId) {
      const parts: StoredPart[] = [];
      let marker: string | undefined;
      try {
        for (;;) {
          const out = await s3.send(
            new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
          );
          for (const part of out.Parts ?? []) {
            parts.push({
              partNumber: part.PartNumber ?? 0,
              size: part.Size ?? 0,
              etag: bareEtag(part.ETag ?? ''),
            });
          }
          if (!out.IsTruncated || !out.NextPartNumberMarker) return parts;
          marker = out.NextPartNumberMarker;
        }
      } catch (error) {
        if (nameOf(error) === 'NoSuchUpload') throw uploadGone(key, error);
        throw unavailable('ListParts', error);
      }
    },
    async completeUpload(key, uploadId, parts) {
      try {
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: {
              Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${bareEtag(p.etag)}"` })),
            },
          }),
        );
      } catch (error) {
        const name = nameOf(error);
        if (name === 'NoSuchUpload') throw uploadGone(key, error);
        if (['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall'].includes(name)) {
          throw new ValidationError(`S3 refused the parts (${name})`, [
            { path: 'parts', message: (error as Error).message },
          ]);
        }
        throw unavailable('CompleteMultipartUpload', error);
      }
    },
    async abortUpload(key, uploadId) {
      try {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        if (nameOf(error) === 'NoSuchUpload') return;
        throw unavailable('AbortMultipartUpload', error);
      }
    },
    async head(key) {
      try {
        const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: out.ContentLength ?? 0, etag: bareEtag(out.ETag ?? ''), metadata: out.Metadata ?? {} };
      } catch (error) {
        if (isMissingObject(error)) return undefined;
        throw unavailable('HeadObject', error);
      }
    },
    async readText(key, maxBytes) {
      try {
        const out = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes}` }),
        );
        const text = (await out.Body?.transformToString('utf8')) ?? '';
        if (Buffer.byteLength(text) > maxBytes) {
          throw new ValidationError(`${key} is larger than ${maxBytes} bytes`);
        }
        return text;
      } catch (error) {
        if (error instanceof GsmError) throw error;
        if (isMissingObject(error)) return undefined;
        // A range cannot be satisfied only by an empty object.
        if (nameOf(error) === 'InvalidRange' || statusOf(error) === 416) return '';
        throw unavailable('GetObject', error);
      }
    },
    async read(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: out.Body as Readable, etag: bareEtag(out.ETag ?? '') };
      } catch (error) {
        if (isMissingObject(error)) throw new NotFoundError('object', key, { cause: error });
        throw unavailable('GetObject', error);
      }
    },
    getUrl: (key, expiresInSec) =>
      getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSec }),
    async remove(key) {
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        if (isMissingObject(error)) return;
        throw unavailable('DeleteObject', error);
      }
    },
  };
};
