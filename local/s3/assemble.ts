import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FilesystemStore } from './s3rver.js';

/**
 * s3rver completes a multipart upload by streaming every part through MD5 into the object, a
 * second full pass over the data (MD5 runs at ~0.6 GB/s in Node) whose result multipart.ts then
 * replaces with the S3 multipart ETag anyway. S3 does no such pass; this assembles the parts
 * with a copy (in the kernel where `cat` can) and stores the S3 ETag (MD5 of the parts' MD5s,
 * `-N`) directly, so completing a large upload locally costs a copy, not a hash.
 */

interface AssemblingStore extends FilesystemStore {
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5: string): Promise<void>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<{ md5: string; size: number }>;
}

const COPY_CHUNK = 8 * 1024 * 1024;
/** Part files per `cat`: well inside any argument-length limit (up to 10,000 parts). */
const CAT_BATCH = 500;

/** Plain reads and writes: where `cat` cannot run. */
const copyInProcess = async (sources: readonly string[], out: FileHandle): Promise<void> => {
  const buffer = Buffer.allocUnsafe(COPY_CHUNK);
  for (const source of sources) {
    const input = await open(source, 'r');
    try {
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        await out.write(buffer, 0, bytesRead);
      }
    } finally {
      await input.close();
    }
  }
};

const catInto = (sources: readonly string[], fd: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn('cat', ['--', ...sources], { stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`cat exited ${code}: ${stderr.trim()}`)),
    );
  });

/**
 * The parts, in order, into one file; its size. GNU `cat` copies inside the kernel
 * (copy_file_range: ~0.3 s per GiB here, several times the read/write loop), each batch
 * appending where the last stopped since they share the file offset; without it (ENOENT) the
 * copy is done in process.
 */
const concatenate = async (sources: readonly string[], target: string): Promise<number> => {
  const out = await open(target, 'w');
  try {
    try {
      for (let i = 0; i < sources.length; i += CAT_BATCH) {
        await catInto(sources.slice(i, i + CAT_BATCH), out.fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await out.truncate(0);
      await copyInProcess(sources, out);
    }
    return (await out.stat()).size;
  } finally {
    await out.close();
  }
};

export const assembleMultipartByCopy = (store: FilesystemStore): void => {
  const s = store as AssemblingStore;
  s.putObjectMultipart = async (bucket, uploadId, parts) => {
    const dir = join(s.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const [key, metadata] = await Promise.all([
      readFile(join(dir, 'key'), 'utf8'),
      readFile(join(dir, 'metadata'), 'utf8').then((text) => JSON.parse(text) as Record<string, unknown>),
    ]);
    const objectPath = s.getResourcePath(bucket, key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const sorted = [...parts].sort((a, b) => a.number - b.number);
    const size = await concatenate(
      sorted.map((part) => join(dir, String(part.number))),
      objectPath,
    );
    const digests = sorted.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex'));
    const etag = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`;
    // As s3rver's S3Object would: a default content type, then only the metadata S3 keeps.
    await s.putMetadata(
      bucket,
      key,
      { ...metadata, 'content-type': metadata['content-type'] || 'binary/octet-stream' },
      etag,
    );
    await rm(dir, { recursive: true, force: true });
    return { md5: etag, size };
  };
};
