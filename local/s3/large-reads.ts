import { createRequire } from 'node:module';
import { readPartsManifest, segmentsOf } from './multipart-objects.js';
import { ObjectStream } from './object-stream.js';
import type { FilesystemStore } from './s3rver.js';

/**
 * s3rver reads an object for GetObject with fs's default 64 KiB buffer, so serving a multi-GB
 * package costs tens of thousands of reads and socket writes on the one thread that also runs
 * the local stack (the intake task hashing it, the origin agents downloading it). This serves
 * the same bytes, ranges and answer with 1 MiB reads: about twice the throughput measured here
 * (curl of a 1 GiB object: 1.36 s → 0.64 s), and reads a multipart object from its parts
 * (multipart-objects.ts).
 */

interface ReadingStore extends FilesystemStore {
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<unknown>;
}

const require = createRequire(import.meta.url);
const S3Object = require('s3rver/lib/models/object') as new (
  bucket: string,
  key: string,
  content: unknown,
  metadata: Record<string, string | number>,
) => { range?: { start: number; end: number } };

export const readObjectsInLargeChunks = (store: FilesystemStore): void => {
  const s = store as ReadingStore;
  // Mirrors s3rver 3.7.1's FilesystemStore.getObject, with the buffer size and the source changed.
  s.getObject = async (bucket, key, options) => {
    let metadata: Record<string, string | number>;
    try {
      metadata = await s.getMetadata(bucket, key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const lastByte = Math.max(0, Number(metadata['content-length']) - 1);
    const range = {
      start: options?.start || 0,
      // `??`, not s3rver's `||`: `bytes=0-0` is the first byte, not the whole object.
      end: Math.min(options?.end ?? Number.POSITIVE_INFINITY, lastByte),
    };
    const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
    if (range.start < 0 || range.end < range.start) {
      const object = new S3Object(bucket, key, null, metadata);
      if (ranged) object.range = range;
      return object;
    }
    let content: unknown;
    try {
      const manifest = await readPartsManifest(s, bucket, key);
      const segments = manifest
        ? segmentsOf(manifest, range)
        : [{ path: s.getResourcePath(bucket, key, 'object'), ...range }];
      content = await new ObjectStream(segments).ready();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const object = new S3Object(bucket, key, content, metadata);
    if (ranged) object.range = range;
    return object;
  };
};
