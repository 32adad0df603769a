import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import { type LocalS3, localS3Client, startS3 } from '../s3.js';

const MiB = 1024 * 1024;
const BUCKET = 'gsm-multipart-objects';

/** Bytes that differ everywhere, so a part out of place or a zeroed range cannot pass. */
const bytes = (size: number, seed: string): Buffer => {
  const out = Buffer.alloc(size);
  for (let offset = 0, i = 0; offset < size; i++) {
    offset += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, offset);
  }
  return out;
};

const readAll = async (body: unknown): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
};

describe('local S3: a completed multipart object is kept as its parts', () => {
  let directory: string;
  let s3: LocalS3;
  let client: S3Client;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'gsm-multipart-objects-'));
    s3 = await startS3({ bucket: BUCKET, directory, logger: createLogger('test', { level: 'silent' }) });
    client = localS3Client(s3);
  });

  afterAll(async () => {
    client?.destroy();
    await s3?.close();
    await rm(directory, { recursive: true, force: true });
  });

  /** Uploads `parts` as one multipart object; the whole body. */
  const uploadMultipart = async (key: string, parts: Buffer[]): Promise<Buffer> => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const etags = await Promise.all(
      parts.map(async (body, i) => {
        const { ETag } = await client.send(
          new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: body }),
        );
        return { PartNumber: i + 1, ETag };
      }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags },
      }),
    );
    return Buffer.concat(parts);
  };

  const get = async (key: string, range?: string) =>
    readAll((await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }))).Body);

  const partFolders = async () => readdir(join(directory, BUCKET, '._S3rver_multipart')).catch(() => []);

  it('reads back the same bytes, whole and in ranges that cross part boundaries, without a copy on disk', async () => {
    const whole = await uploadMultipart('builds/a.tar.gz', [
      bytes(5 * MiB, 'a1'),
      bytes(5 * MiB, 'a2'),
      bytes(123_457, 'a3'),
    ]);
    expect((await get('builds/a.tar.gz')).equals(whole)).toBe(true);
    for (const [start, end] of [
      [0, 0],
      [5 * MiB - 3, 5 * MiB + 2],
      [MiB, 10 * MiB + 99],
      [10 * MiB, whole.length - 1],
      [whole.length - 1, whole.length - 1],
    ] as const) {
      expect(
        (await get('builds/a.tar.gz', `bytes=${start}-${end}`)).equals(whole.subarray(start, end + 1)),
      ).toBe(true);
    }
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'builds/a.tar.gz' }));
    expect(head.ContentLength).toBe(whole.length);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'builds/' }));
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([['builds/a.tar.gz', whole.length]]);
    // The object file holds no data blocks: the bytes are only in the parts.
    const objectFile = await stat(join(directory, BUCKET, 'builds', 'a.tar.gz._S3rver_object'));
    expect(objectFile.size).toBe(whole.length);
    expect(objectFile.blocks * 512).toBeLessThan(64 * 1024);
  });

  it('a copy survives the deletion of its source; deleting both leaves no part behind', async () => {
    const whole = await uploadMultipart('copy/source', [bytes(5 * MiB, 'c1'), bytes(1000, 'c2')]);
    await client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/dest', CopySource: `${BUCKET}/copy/source` }),
    );
    const sourceHead = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy/source' }));
    const destHead = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy/dest' }));
    expect(destHead.ETag).toBe(sourceHead.ETag);
    expect(destHead.ContentLength).toBe(whole.length);
    const before = (await partFolders()).length;
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'copy/source' }));
    expect((await get('copy/dest')).equals(whole)).toBe(true);
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'copy/dest' }));
    expect((await partFolders()).length).toBe(before - 2);
    await expect(get('copy/dest')).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('a plain PUT or a second multipart upload over the key replaces the object and frees the old parts', async () => {
    await uploadMultipart('over/key', [bytes(5 * MiB, 'o1'), bytes(10, 'o2')]);
    const folders = (await partFolders()).length;
    const second = await uploadMultipart('over/key', [bytes(5 * MiB, 'o3'), bytes(77, 'o4')]);
    expect((await partFolders()).length).toBe(folders);
    expect((await get('over/key')).equals(second)).toBe(true);
    const plain = bytes(4096, 'plain');
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'over/key', Body: plain }));
    expect((await partFolders()).length).toBe(folders - 1);
    expect((await get('over/key')).equals(plain)).toBe(true);
  });

  it('a copy of a whole object over a multipart one frees its parts and reads the copied bytes', async () => {
    await uploadMultipart('mixed/dest', [bytes(5 * MiB, 'm1'), bytes(10, 'm2')]);
    const folders = (await partFolders()).length;
    const plain = bytes(3000, 'mixed');
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mixed/source', Body: plain }));
    await client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'mixed/dest', CopySource: `${BUCKET}/mixed/source` }),
    );
    expect((await partFolders()).length).toBe(folders - 1);
    expect((await get('mixed/dest')).equals(plain)).toBe(true);
  });
});
