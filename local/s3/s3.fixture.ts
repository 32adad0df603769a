import { createHash } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { createLogger } from '../../core/log.js';
import type { S3BucketEvent } from '../../core/model/events.js';
import { type LocalS3, localS3Client, startS3 } from '../s3.js';

export const MiB = 1024 * 1024;
export const BUCKET = 'gsm-s3-test';

/** Deterministic, non-repeating-looking bytes: block i is sha256(seed:i) repeated. */
export const bytes = (size: number, seed: string): Buffer => {
  const out = Buffer.alloc(size);
  for (let offset = 0, i = 0; offset < size; i++) {
    offset += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, offset);
  }
  return out;
};

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
export const md5 = (data: Buffer | string) => createHash('md5').update(data).digest();

export const readAll = async (body: unknown): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
};

export interface S3TestBucket {
  readonly s3: LocalS3;
  readonly client: S3Client;
  /** The bucket's events since the test began (drained before each test). */
  readonly events: S3BucketEvent[];
  /** The listener throws once, for the next event. */
  failNextEvent(): void;
  get(key: string, range?: string): Promise<GetObjectCommandOutput>;
  startUpload(key: string): Promise<string>;
  /** Sends a part through a presigned UploadPart URL, as the CLI does; its ETag. */
  putPartPresigned(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string>;
}

/**
 * Registers the suite's hooks: one local S3 (s3rver behind the gsm middleware) with an event
 * listener and a client, for the whole file. Read the fields inside tests, not at collection.
 */
export const useS3TestBucket = (): S3TestBucket => {
  const state = { events: [] as S3BucketEvent[], failNext: false } as {
    s3: LocalS3;
    client: S3Client;
    events: S3BucketEvent[];
    failNext: boolean;
  };
  beforeAll(async () => {
    state.s3 = await startS3({
      bucket: BUCKET,
      logger: createLogger('test', { level: 'silent' }),
      onEvent: async (event) => {
        if (state.failNext) {
          state.failNext = false;
          throw new Error('listener failure');
        }
        state.events.push(event);
      },
    });
    state.client = localS3Client(state.s3);
  });
  afterAll(async () => {
    state.client?.destroy();
    await state.s3?.close();
  });
  beforeEach(async () => {
    await state.s3.drainEvents();
    state.events.length = 0;
  });
  return {
    get s3() {
      return state.s3;
    },
    get client() {
      return state.client;
    },
    get events() {
      return state.events;
    },
    failNextEvent: () => {
      state.failNext = true;
    },
    get: (key, range) => state.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range })),
    async startUpload(key) {
      const created = await state.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      return created.UploadId ?? '';
    },
    async putPartPresigned(key, uploadId, partNumber, body) {
      const url = await getSignedUrl(
        state.client,
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber }),
        { expiresIn: 300 },
      );
      const response = await fetch(url, { method: 'PUT', body: new Uint8Array(body) });
      expect(response.status).toBe(200);
      return response.headers.get('etag') ?? '';
    },
  };
};
