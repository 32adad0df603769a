import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createS3Client } from '../../core/aws.js';
import { createLogger } from '../../core/log.js';
import { S3BucketEvent, S3ObjectCreatedEvent } from '../../core/model/events.js';
import { decodeEventKey } from '../../core/model/s3-keys.js';
import { type LocalS3, startS3 } from '../s3.js';

const MiB = 1024 * 1024;
const BUCKET = 'gsm-s3-test';

/** Deterministic, non-repeating-looking bytes: block i is sha256(seed:i) repeated. */
const bytes = (size: number, seed: string): Buffer => {
  const out = Buffer.alloc(size);
  for (let offset = 0, i = 0; offset < size; i++) {
    offset += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, offset);
  }
  return out;
};

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const md5 = (data: Buffer | string) => createHash('md5').update(data).digest();

const readAll = async (body: unknown): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
};

describe('local S3 (s3rver behind the gsm middleware)', () => {
  let s3: LocalS3;
  let client: S3Client;
  let events: S3BucketEvent[] = [];
  let failNextEvent = false;

  beforeAll(async () => {
    s3 = await startS3({
      bucket: BUCKET,
      logger: createLogger('test', { level: 'silent' }),
      onEvent: async (event) => {
        if (failNextEvent) {
          failNextEvent = false;
          throw new Error('listener failure');
        }
        events.push(event);
      },
    });
    client = createS3Client({
      region: s3.region,
      endpoints: { s3: s3.endpoint },
      credentials: s3.credentials,
      s3ForcePathStyle: true,
    });
  });

  afterAll(async () => {
    client?.destroy();
    await s3?.close();
  });

  beforeEach(async () => {
    await s3.drainEvents();
    events = [];
  });

  const get = async (key: string, range?: string) =>
    client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }));

  const startUpload = async (key: string) => {
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    return created.UploadId!;
  };

  const putPartPresigned = async (key: string, uploadId: string, partNumber: number, body: Buffer) => {
    const url = await getSignedUrl(
      client,
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber }),
      { expiresIn: 300 },
    );
    const response = await fetch(url, { method: 'PUT', body: new Uint8Array(body) });
    expect(response.status).toBe(200);
    return response.headers.get('etag')!;
  };

  it('stores an object with metadata and returns it', async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'plain/hello.txt',
        Body: 'hello gsm',
        ContentType: 'text/plain',
        Metadata: { sha256: 'abc123' },
      }),
    );

    const object = await get('plain/hello.txt');
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'plain/hello.txt' }));

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

    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'stream/big.bin',
        Body: Readable.from(chunks()),
        ContentLength: size,
      }),
    );
    const stored = await readAll((await get('stream/big.bin')).Body);

    expect(stored.length).toBe(size);
    expect(sha256(stored)).toBe(sha256(data));
  });

  it('answers a Range GET with the requested bytes', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Body: '0123456789abcdef' }));

    const part = await get('range.txt', 'bytes=5-9');

    expect((await readAll(part.Body)).toString()).toBe('56789');
    expect(part.ContentRange).toBe('bytes 5-9/16');
  });

  describe('multipart uploads', () => {
    const first = bytes(5 * MiB, 'part-1');
    const second = bytes(MiB + 7, 'part-2');

    it('uploads parts through presigned URLs, lists them, and completes to the same bytes', async () => {
      const key = 'uploads/demo@1.0/server.tar.bz2';
      const uploadId = await startUpload(key);
      const etag1 = await putPartPresigned(key, uploadId, 1, first);
      const etag2 = await putPartPresigned(key, uploadId, 2, second);

      const listed = await client.send(
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

      const completed = await client.send(
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
      const object = await get(key);
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
      const uploadId = await startUpload(key);
      await putPartPresigned(key, uploadId, 1, Buffer.from('one'));
      await putPartPresigned(key, uploadId, 2, Buffer.from('two!'));

      const page1 = await client.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MaxParts: 1 }),
      );
      const page2 = await client.send(
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
      const uploadId = await startUpload(key);
      const etag = await putPartPresigned(key, uploadId, 1, Buffer.from('doomed'));

      await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));

      const complete = client.send(
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
        client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
      await expect(
        client.send(
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
        client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    });

    it('refuses a Complete naming a part with another ETag, and a second Complete', async () => {
      const key = 'strict/object.bin';
      const uploadId = await startUpload(key);
      const etag = await putPartPresigned(key, uploadId, 1, Buffer.from('only part'));
      const completeWith = (partEtag: string) =>
        client.send(
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
      const uploadId = await startUpload(key);
      const etag1 = await putPartPresigned(key, uploadId, 1, Buffer.from('tiny'));
      const etag2 = await putPartPresigned(key, uploadId, 2, Buffer.from('tail'));

      const complete = client.send(
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

  describe('events', () => {
    const awkwardKey = 'incoming/démo/1.0 beta/a+b file ü.tar.bz2';

    it('sends one EventBridge Object Created event for a PutObject, with the key URL-encoded', async () => {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: awkwardKey, Body: 'payload' }));
      await s3.drainEvents();

      expect(events).toHaveLength(1);
      const event = S3ObjectCreatedEvent.parse(events[0]);
      expect(event).toMatchObject({
        version: '0',
        'detail-type': 'Object Created',
        source: 'aws.s3',
        account: '123456789000',
        region: 'us-east-1',
        resources: [`arn:aws:s3:::${BUCKET}`],
        detail: {
          version: '0',
          bucket: { name: BUCKET },
          object: { size: 7, etag: createHash('md5').update('payload').digest('hex') },
          requester: '123456789000',
          'source-ip-address': '127.0.0.1',
          reason: 'PutObject',
        },
      });
      expect(event.detail.object.key).toBe('incoming/d%C3%A9mo/1.0+beta/a%2Bb+file+%C3%BC.tar.bz2');
      expect(decodeEventKey(event.detail.object.key)).toBe(awkwardKey);
      expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(event.detail.object.sequencer).toMatch(/^[0-9A-F]{18}$/);
    });

    it('sends one event with reason CompleteMultipartUpload for a multipart completion', async () => {
      const uploadId = await startUpload(awkwardKey);
      const etag = await putPartPresigned(awkwardKey, uploadId, 1, Buffer.from('multi'));

      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: awkwardKey,
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
        }),
      );
      await s3.drainEvents();

      expect(events).toHaveLength(1);
      const event = S3ObjectCreatedEvent.parse(events[0]);
      expect(event.detail.reason).toBe('CompleteMultipartUpload');
      expect(decodeEventKey(event.detail.object.key)).toBe(awkwardKey);
      expect(event.detail.object.size).toBe(5);
      expect(event.detail.object.etag).toBe(`${createHash('md5').update(md5('multi')).digest('hex')}-1`);
    });

    it('tells a browser form POST from a multipart completion', async () => {
      const form = new FormData();
      form.append('key', 'posted/form.txt');
      form.append('file', new Blob(['from a form']), 'form.txt');

      const response = await fetch(`${s3.endpoint}/${BUCKET}`, { method: 'POST', body: form });
      await s3.drainEvents();

      expect(response.status).toBe(204);
      expect(events.map((e) => [e['detail-type'], e.detail.reason])).toEqual([
        ['Object Created', 'PostObject'],
      ]);
    });

    it('sends CopyObject and Object Deleted events', async () => {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/source.txt', Body: 'copy me' }));
      await client.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: 'copy/target.txt',
          CopySource: `${BUCKET}/copy/source.txt`,
        }),
      );
      await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'copy/target.txt' }));
      await s3.drainEvents();

      const [, copied, deleted] = events.map((e) => S3BucketEvent.parse(e));
      expect(copied).toMatchObject({
        'detail-type': 'Object Created',
        detail: {
          reason: 'CopyObject',
          object: { key: 'copy/target.txt', etag: createHash('md5').update('copy me').digest('hex') },
        },
      });
      expect(deleted).toMatchObject({
        'detail-type': 'Object Deleted',
        detail: {
          reason: 'DeleteObject',
          'deletion-type': 'Permanently Deleted',
          object: { key: 'copy/target.txt' },
        },
      });
    });

    it('delivers events for one key in order, one at a time', async () => {
      for (const body of ['1', '22', '333']) {
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'order/key', Body: body }));
      }
      await s3.drainEvents();

      const created = events.map((e) => S3ObjectCreatedEvent.parse(e));
      expect(created.map((e) => e.detail.object.size)).toEqual([1, 2, 3]);
      const sequencers = created.map((e) => e.detail.object.sequencer);
      expect([...sequencers].sort()).toEqual(sequencers);
    });

    it('survives a listener that throws: the request succeeds and later events still arrive', async () => {
      failNextEvent = true;

      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'throws/one', Body: 'x' }));
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'throws/two', Body: 'y' }));
      await s3.drainEvents();

      expect(events.map((e) => e.detail.object.key)).toEqual(['throws/two']);
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
