import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../core/aws.js';
import { createLogger } from '../../core/log.js';
import type { S3BucketEvent } from '../../core/model/events.js';
import { startS3 } from '../s3.js';

/** The local S3 runs in a worker thread: what crosses between it and the caller's thread. */

const capturedLogger = (level: string) => {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { logger: createLogger('caller', { level, destination: stream }), lines };
};

const clientFor = (s3: Awaited<ReturnType<typeof startS3>>) =>
  createS3Client({
    region: s3.region,
    endpoints: { s3: s3.endpoint },
    credentials: s3.credentials,
    s3ForcePathStyle: true,
  });

describe('local S3 in its worker thread', () => {
  it("writes the worker's log lines through the caller's logger, at the caller's level", async () => {
    const { logger, lines } = capturedLogger('info');

    const s3 = await startS3({ bucket: 'logs', logger });
    await s3.close();

    const messages = lines.map((l) => l.msg);
    expect(messages).toContain('local S3 ready');
    expect(messages).toContain('local S3 stopped');
    const ready = lines.find((l) => l.msg === 'local S3 ready');
    expect(ready).toMatchObject({ service: 'caller', component: 's3', level: 'info', endpoint: s3.endpoint });
    expect(lines.filter((l) => l.level === 'debug')).toEqual([]);
  });

  it('rejects with the cause when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(
        startS3({ bucket: 'busy', port, logger: createLogger('test', { level: 'silent' }) }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('keeps objects in a given folder across a restart with the same credentials', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gsm-s3-thread-'));
    const credentials = { accessKeyId: 'GSMTEST', secretAccessKey: 'gsm-test-secret' };
    const logger = createLogger('test', { level: 'silent' });
    try {
      const first = await startS3({ bucket: 'kept', directory, credentials, logger });
      const client = clientFor(first);
      await client.send(new PutObjectCommand({ Bucket: 'kept', Key: 'a/b', Body: 'kept bytes' }));
      client.destroy();
      await first.close();
      expect(existsSync(directory)).toBe(true);

      const second = await startS3({ bucket: 'kept', directory, credentials, logger });
      const got = await fetch(`${second.endpoint}/kept/a/b`);
      await second.close();

      expect(second.credentials).toEqual(credentials);
      expect(await got.text()).toBe('kept bytes');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('delivers the events raised before close, and drainEvents after close returns', async () => {
    const events: S3BucketEvent[] = [];
    const s3 = await startS3({
      bucket: 'late',
      logger: createLogger('test', { level: 'silent' }),
      // A slow listener: close must still wait for it.
      onEvent: async (event) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        events.push(event);
      },
    });
    const client = clientFor(s3);
    await client.send(new PutObjectCommand({ Bucket: 'late', Key: 'one', Body: '1' }));
    await client.send(new PutObjectCommand({ Bucket: 'late', Key: 'two', Body: '2' }));
    client.destroy();

    await s3.close();
    await s3.drainEvents();

    expect(events.map((e) => e.detail.object.key).sort()).toEqual(['one', 'two']);
  });

  it('refuses to run outside a worker thread', async () => {
    await expect(import('./worker.js')).rejects.toThrow(/runs as a worker thread/);
  });
});
