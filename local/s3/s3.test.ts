import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import { startS3 } from '../s3.js';
import { BUCKET, bytes, MiB, md5, readAll, sha256, useS3TestBucket } from './s3.fixture.js';

describe('local S3 (s3rver behind the gsm middleware)', () => {
  const bucket = useS3TestBucket();

  it('stores an object with metadata and returns it', async () => {
    await bucket.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'plain/hello.txt',
        Body: 'hello gsm',
        ContentType: 'text/plain',
        Metadata: { sha256: 'abc123' },
      }),
    );

    const object = await bucket.get('plain/hello.txt');
    const head = await bucket.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'plain/hello.txt' }));

    expect((await readAll(object.Body)).toString()).toBe('hello gsm');
    expect(object.ContentType).toBe('text/plain');
    expect(object.Metadata).toEqual({ sha256: 'abc123' });
    expect(head.ContentLength).toBe(9);
  });

  it('stores a streamed body byte for byte (no aws-chunked framing)', async () => {
    const size = 6 * MiB + 12_345;
    const data = bytes(size, 'stream');
    async function* chunks() {
      for (let offset = 0; offset < size; offset += 64 * 1024)
        yield data.subarray(offset, offset + 64 * 1024);
    }

    await bucket.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'stream/big.bin',
        Body: Readable.from(chunks()),
        ContentLength: size,
      }),
    );
    const stored = await readAll((await bucket.get('stream/big.bin')).Body);

    expect(stored.length).toBe(size);
    expect(sha256(stored)).toBe(sha256(data));
  });

  it('answers a Range GET with the requested bytes', async () => {
    await bucket.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Body: '0123456789abcdef' }),
    );

    const part = await bucket.get('range.txt', 'bytes=5-9');

    expect((await readAll(part.Body)).toString()).toBe('56789');
    expect(part.ContentRange).toBe('bytes 5-9/16');
  });

  describe('multipart uploads', () => {
    const first = bytes(5 * MiB, 'part-1');
    const second = bytes(MiB + 7, 'part-2');

    it('uploads parts through presigned URLs, lists them, and completes to the same bytes', async () => {
      const key = 'uploads/demo@1.0/server.tar.bz2';
      const uploadId = await bucket.startUpload(key);
      const etag1 = await bucket.putPartPresigned(key, uploadId, 1, first);
      const etag2 = await bucket.putPartPresigned(key, uploadId, 2, second);

      const listed = await bucket.client.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
      );

      expect(listed.Bucket).toBe(BUCKET);
      expect(listed.Key).toBe(key);
      expect(listed.UploadId).toBe(uploadId);
      expect(listed.IsTruncated).toBe(false);
      expect(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([
        [1, etag1, first.length],
        [2, etag2, second.length],
      ]);
      expect(etag1).toBe(`"${createHash('md5').update(first).digest('hex')}"`);
      expect(listed.Parts?.[0]?.LastModified).toBeInstanceOf(Date);

      const completed = await bucket.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: etag1 },
              { PartNumber: 2, ETag: etag2 },
            ],
          },
        }),
      );
      const object = await bucket.get(key);
      const stored = await readAll(object.Body);

      expect(sha256(stored)).toBe(sha256(Buffer.concat([first, second])));
      const multipartEtag = `"${createHash('md5')
        .update(Buffer.concat([md5(first), md5(second)]))
        .digest('hex')}-2"`;
      expect(completed.ETag).toBe(multipartEtag);
      expect(object.ETag).toBe(multipartEtag);
    });

    it('pages ListParts with max-parts and part-number-marker', async () => {
      const key = 'paged/object.bin';
      const uploadId = await bucket.startUpload(key);
      await bucket.putPartPresigned(key, uploadId, 1, Buffer.from('one'));
      await bucket.putPartPresigned(key, uploadId, 2, Buffer.from('two!'));

      const page1 = await bucket.client.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MaxParts: 1 }),
      );
      const page2 = await bucket.client.send(
        new ListPartsCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MaxParts: 1,
          PartNumberMarker: page1.NextPartNumberMarker,
        }),
      );

      expect(page1.Parts?.map((p) => p.PartNumber)).toEqual([1]);
      expect(page1.IsTruncated).toBe(true);
      expect(page1.MaxParts).toBe(1);
      expect(page1.NextPartNumberMarker).toBe('1');
      expect(page2.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[2, 4]]);
      expect(page2.IsTruncated).toBe(false);
      expect(page2.PartNumberMarker).toBe('1');
    });

    it('aborts an upload: its parts go, and Complete, ListParts and UploadPart answer NoSuchUpload', async () => {
      const key = 'aborted/object.bin';
      const uploadId = await bucket.startUpload(key);
      const etag = await bucket.putPartPresigned(key, uploadId, 1, Buffer.from('doomed'));

      await bucket.client.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
      );

      const complete = bucket.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
        }),
      );
      await expect(complete).rejects.toMatchObject({
        name: 'NoSuchUpload',
        $metadata: { httpStatusCode: 404 },
      });
      await expect(
        bucket.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
      await expect(
        bucket.client.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: uploadId,
            PartNumber: 2,
            Body: 'late',
          }),
        ),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
      await expect(
        bucket.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    });

    it('refuses a Complete naming a part with another ETag, and a second Complete', async () => {
      const key = 'strict/object.bin';
      const uploadId = await bucket.startUpload(key);
      const etag = await bucket.putPartPresigned(key, uploadId, 1, Buffer.from('only part'));
      const completeWith = (partEtag: string) =>
        bucket.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: partEtag }] },
          }),
        );

      await expect(completeWith('"00000000000000000000000000000000"')).rejects.toMatchObject({
        name: 'InvalidPart',
      });
      await completeWith(etag);
      await expect(completeWith(etag)).rejects.toMatchObject({ name: 'NoSuchUpload' });
    });

    it('refuses a Complete whose non-final part is under 5 MiB', async () => {
      const key = 'small/object.bin';
      const uploadId = await bucket.startUpload(key);
      const etag1 = await bucket.putPartPresigned(key, uploadId, 1, Buffer.from('tiny'));
      const etag2 = await bucket.putPartPresigned(key, uploadId, 2, Buffer.from('tail'));

      const complete = bucket.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: etag1 },
              { PartNumber: 2, ETag: etag2 },
            ],
          },
        }),
      );

      await expect(complete).rejects.toMatchObject({ name: 'EntityTooSmall' });
    });
  });

  it('removes its temp folder on close and stops answering', async () => {
    const other = await startS3({ bucket: 'closing', logger: createLogger('test', { level: 'silent' }) });
    expect(existsSync(other.directory)).toBe(true);

    await other.close();
    await other.close();

    expect(existsSync(other.directory)).toBe(false);
    await expect(fetch(`${other.endpoint}/closing`)).rejects.toThrow();
  });
});
