import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3BucketEvent, S3ObjectCreatedEvent } from '../../core/model/events.js';
import { decodeEventKey } from '../../core/model/s3-keys.js';
import { BUCKET, md5, useS3TestBucket } from './s3.fixture.js';

/** The bucket's EventBridge-shaped events, as functions/trigger receives them in AWS. */
describe('local S3 events', () => {
  const bucket = useS3TestBucket();
  const awkwardKey = 'incoming/démo/1.0 beta/a+b file ü.tar.bz2';

  it('sends one EventBridge Object Created event for a PutObject, with the key URL-encoded', async () => {
    await bucket.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: awkwardKey, Body: 'payload' }));
    await bucket.s3.drainEvents();

    expect(bucket.events).toHaveLength(1);
    const event = S3ObjectCreatedEvent.parse(bucket.events[0]);
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
    const uploadId = await bucket.startUpload(awkwardKey);
    const etag = await bucket.putPartPresigned(awkwardKey, uploadId, 1, Buffer.from('multi'));

    await bucket.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: awkwardKey,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
      }),
    );
    await bucket.s3.drainEvents();

    expect(bucket.events).toHaveLength(1);
    const event = S3ObjectCreatedEvent.parse(bucket.events[0]);
    expect(event.detail.reason).toBe('CompleteMultipartUpload');
    expect(decodeEventKey(event.detail.object.key)).toBe(awkwardKey);
    expect(event.detail.object.size).toBe(5);
    expect(event.detail.object.etag).toBe(`${createHash('md5').update(md5('multi')).digest('hex')}-1`);
  });

  it('tells a browser form POST from a multipart completion', async () => {
    const form = new FormData();
    form.append('key', 'posted/form.txt');
    form.append('file', new Blob(['from a form']), 'form.txt');

    const response = await fetch(`${bucket.s3.endpoint}/${BUCKET}`, { method: 'POST', body: form });
    await bucket.s3.drainEvents();

    expect(response.status).toBe(204);
    expect(bucket.events.map((e) => [e['detail-type'], e.detail.reason])).toEqual([
      ['Object Created', 'PostObject'],
    ]);
  });

  it('sends CopyObject and Object Deleted events', async () => {
    await bucket.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/source.txt', Body: 'copy me' }),
    );
    await bucket.client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy/target.txt',
        CopySource: `${BUCKET}/copy/source.txt`,
      }),
    );
    await bucket.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'copy/target.txt' }));
    await bucket.s3.drainEvents();

    const [, copied, deleted] = bucket.events.map((e) => S3BucketEvent.parse(e));
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
      await bucket.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'order/key', Body: body }));
    }
    await bucket.s3.drainEvents();

    const created = bucket.events.map((e) => S3ObjectCreatedEvent.parse(e));
    expect(created.map((e) => e.detail.object.size)).toEqual([1, 2, 3]);
    const sequencers = created.map((e) => e.detail.object.sequencer);
    expect([...sequencers].sort()).toEqual(sequencers);
  });

  it('survives a listener that throws: the request succeeds and later events still arrive', async () => {
    bucket.failNextEvent();

    await bucket.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'throws/one', Body: 'x' }));
    await bucket.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'throws/two', Body: 'y' }));
    await bucket.s3.drainEvents();

    expect(bucket.events.map((e) => e.detail.object.key)).toEqual(['throws/two']);
  });
});
