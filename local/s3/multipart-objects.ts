import { createHash, randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileSegment } from './object-stream.js';
import type { FilesystemStore } from './s3rver.js';

/**
 * S3 completes a multipart upload without copying its parts; s3rver concatenates them into one
 * object file, and on this machine's ext4 (no reflinks) writing a 2 GiB copy costs ~5 s of kernel
 * time, as long as the whole upload of the parts again. So a completed multipart object stays its
 * parts: the upload's folder moves (a rename) to `._S3rver_multipart/<uploadId>`, a manifest
 * (`<name>._S3rver_object.parts`) lists them, and the object file itself becomes a sparse file
 * of the object's size, so every s3rver path that only stats it (HEAD, listing, existence, sizes
 * in events) is unchanged. Reads (large-reads.ts), copies, overwrites and deletes go through
 * the manifest.
 */

/** What the manifest file holds: the parts' folder by name, so the data directory can move. */
interface StoredManifest {
  folder: string;
  parts: { file: string; size: number }[];
}

export interface PartsManifest {
  /** The folder holding the part files, absolute. */
  dir: string;
  parts: { file: string; size: number }[];
}

interface MultipartStore extends FilesystemStore {
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void>;
  putObject(object: { bucket: string; key: string }): Promise<{ md5: string; size: number }>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<{ md5: string; size: number }>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Record<string, unknown>,
  ): Promise<unknown>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

const partsRoot = (store: FilesystemStore, bucket: string) =>
  store.getResourcePath(bucket, undefined, 'multipart');

const manifestPath = (store: FilesystemStore, bucket: string, key: string) =>
  store.getResourcePath(bucket, key, 'object.parts');

/** The object's manifest, or undefined for an object stored whole. */
export const readPartsManifest = async (
  store: FilesystemStore,
  bucket: string,
  key: string,
): Promise<PartsManifest | undefined> => {
  try {
    const stored = JSON.parse(await readFile(manifestPath(store, bucket, key), 'utf8')) as StoredManifest;
    return { dir: join(partsRoot(store, bucket), stored.folder), parts: stored.parts };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

/** Where bytes start..end (inclusive) of a multipart object are: ranges of its part files, in order. */
export const segmentsOf = (manifest: PartsManifest, range: { start: number; end: number }): FileSegment[] => {
  const segments: FileSegment[] = [];
  let offset = 0;
  for (const part of manifest.parts) {
    const partStart = offset;
    offset += part.size;
    if (offset <= range.start || part.size === 0) continue;
    if (partStart > range.end) break;
    segments.push({
      path: join(manifest.dir, part.file),
      start: Math.max(0, range.start - partStart),
      end: Math.min(part.size - 1, range.end - partStart),
    });
  }
  return segments;
};

/** Writes via a temporary name and a rename, so a reader sees the old file or the new one. */
const replaceFile = async (path: string, write: (temporary: string) => Promise<void>) => {
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await write(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
};

const writeManifest = (path: string, manifest: StoredManifest) =>
  replaceFile(path, (temporary) => writeFile(temporary, JSON.stringify(manifest)));

/** The object file: as long as the object, with no blocks behind it. */
const writeSparseObject = (path: string, size: number) =>
  replaceFile(path, async (temporary) => {
    const file = await open(temporary, 'w');
    try {
      await file.truncate(size);
    } finally {
      await file.close();
    }
  });

/** Forgets a multipart object's parts: its manifest, then the folder it named. */
const dropParts = async (store: FilesystemStore, bucket: string, key: string) => {
  const manifest = await readPartsManifest(store, bucket, key);
  if (!manifest) return;
  await rm(manifestPath(store, bucket, key), { force: true });
  await rm(manifest.dir, { recursive: true, force: true });
};

export const keepMultipartObjectsAsParts = (store: FilesystemStore): void => {
  const s = store as MultipartStore;

  s.putObjectMultipart = async (bucket, uploadId, parts) => {
    const uploadDir = join(s.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const [key, metadata] = await Promise.all([
      readFile(join(uploadDir, 'key'), 'utf8'),
      readFile(join(uploadDir, 'metadata'), 'utf8').then(
        (text) => JSON.parse(text) as Record<string, unknown>,
      ),
    ]);
    const sorted = [...parts].sort((a, b) => a.number - b.number);
    const dir = join(partsRoot(s, bucket), uploadId);
    await mkdir(partsRoot(s, bucket), { recursive: true });
    await rename(uploadDir, dir);
    const manifest: StoredManifest = {
      folder: uploadId,
      parts: await Promise.all(
        sorted.map(async (part) => ({
          file: String(part.number),
          size: (await stat(join(dir, String(part.number)))).size,
        })),
      ),
    };
    const size = manifest.parts.reduce((sum, part) => sum + part.size, 0);
    const objectPath = s.getResourcePath(bucket, key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const previous = await readPartsManifest(s, bucket, key);
    await writeManifest(manifestPath(s, bucket, key), manifest);
    await writeSparseObject(objectPath, size);
    if (previous) await rm(previous.dir, { recursive: true, force: true });
    // The S3 multipart ETag (MD5 of the parts' MD5s, `-N`), as S3 gives it; s3rver's own would
    // be a full MD5 pass over the object.
    const digests = sorted.map((part) => Buffer.from(part.etag.replace(/"/g, ''), 'hex'));
    const etag = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`;
    // As s3rver's S3Object would: a default content type, then only the metadata S3 keeps.
    await s.putMetadata(
      bucket,
      key,
      { ...metadata, 'content-type': metadata['content-type'] || 'binary/octet-stream' },
      etag,
    );
    return { md5: etag, size };
  };

  // A plain PUT over a multipart object: the new bytes land in the object file, then the parts go.
  const putObject = s.putObject.bind(s);
  s.putObject = async (object) => {
    const result = await putObject(object);
    await dropParts(s, object.bucket, object.key);
    return result;
  };

  // A multipart source is copied as s3rver would copy a whole one (object file, MD5, metadata or
  // its replacement), except that the copy gets its own hard links to the same part files, so
  // deleting either object leaves the other whole, and nothing is read or written in full.
  const copyObject = s.copyObject.bind(s);
  s.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const source = await readPartsManifest(s, srcBucket, srcKey);
    const destPath = s.getResourcePath(destBucket, destKey, 'object');
    const samePath = s.getResourcePath(srcBucket, srcKey, 'object') === destPath;
    if (!source || samePath) {
      const result = await copyObject(srcBucket, srcKey, destBucket, destKey, replacementMetadata);
      if (!samePath) await dropParts(s, destBucket, destKey);
      return result;
    }
    const folder = `copy-${randomUUID()}`;
    const dir = join(partsRoot(s, destBucket), folder);
    await mkdir(dir, { recursive: true });
    await Promise.all(source.parts.map((part) => link(join(source.dir, part.file), join(dir, part.file))));
    const previous = await readPartsManifest(s, destBucket, destKey);
    await mkdir(dirname(destPath), { recursive: true });
    await writeManifest(manifestPath(s, destBucket, destKey), { folder, parts: source.parts });
    await writeSparseObject(
      destPath,
      source.parts.reduce((sum, part) => sum + part.size, 0),
    );
    await copyFile(
      s.getResourcePath(srcBucket, srcKey, 'object.md5'),
      s.getResourcePath(destBucket, destKey, 'object.md5'),
    );
    if (replacementMetadata) await s.putMetadata(destBucket, destKey, replacementMetadata);
    else {
      await copyFile(
        s.getResourcePath(srcBucket, srcKey, 'metadata.json'),
        s.getResourcePath(destBucket, destKey, 'metadata.json'),
      );
    }
    if (previous) await rm(previous.dir, { recursive: true, force: true });
    return s.getMetadata(destBucket, destKey);
  };

  // The object file goes first, so no reader finds the sparse file without its parts.
  const deleteObject = s.deleteObject.bind(s);
  s.deleteObject = async (bucket, key) => {
    if (await readPartsManifest(s, bucket, key)) {
      await unlink(s.getResourcePath(bucket, key, 'object')).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await dropParts(s, bucket, key);
    }
    await deleteObject(bucket, key);
  };
};
