import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FileSegment, ObjectStream } from './object-stream.js';

const MiB = 1024 * 1024;

describe('ObjectStream', () => {
  let dir: string;
  let files: { path: string; data: Buffer }[];
  let server: Server;
  let url: string;
  let next: FileSegment[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gsm-object-stream-'));
    files = await Promise.all(
      [3 * MiB + 17, 5 * MiB, 1].map(async (size, i) => {
        const path = join(dir, `f${i}`);
        const data = randomBytes(size);
        await writeFile(path, data);
        return { path, data };
      }),
    );
    // What Koa does with a stream body: pipe it into the response.
    server = createServer((_req, res) => {
      new ObjectStream(next)
        .ready()
        .then((stream) => stream.pipe(res))
        .catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const expected = (segments: FileSegment[]) =>
    Buffer.concat(
      segments.map((s) => {
        const file = files.find((f) => f.path === s.path)!;
        return file.data.subarray(s.start, s.end + 1);
      }),
    );

  const cases: [string, () => FileSegment[]][] = [
    ['one whole file', () => [{ path: files[1]!.path, start: 0, end: 5 * MiB - 1 }]],
    [
      'ranges of several files, across chunk boundaries',
      () => [
        { path: files[0]!.path, start: MiB - 5, end: 3 * MiB + 16 },
        { path: files[1]!.path, start: 0, end: 5 * MiB - 1 },
        { path: files[2]!.path, start: 0, end: 0 },
      ],
    ],
    ['a single byte', () => [{ path: files[0]!.path, start: 42, end: 42 }]],
  ];

  it.each(cases)('piped into a response, sends %s byte for byte', async (_name, segmentsOf) => {
    next = segmentsOf();
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(body.equals(expected(next))).toBe(true);
  });

  it.each(cases)('read as a plain stream, gives %s byte for byte', async (_name, segmentsOf) => {
    const segments = segmentsOf();
    const chunks: Buffer[] = [];
    for await (const chunk of await new ObjectStream(segments).ready()) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(expected(segments))).toBe(true);
  });

  it('an empty range list is an empty body', async () => {
    next = [];
    expect((await (await fetch(url)).arrayBuffer()).byteLength).toBe(0);
  });

  it('a missing file fails before anything is sent', async () => {
    await expect(
      new ObjectStream([{ path: join(dir, 'nope'), start: 0, end: 9 }]).ready(),
    ).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('a file shorter than its range breaks the answer instead of ending it short', async () => {
    const path = join(dir, 'short');
    await writeFile(path, randomBytes(4 * MiB));
    next = [{ path, start: 0, end: 4 * MiB - 1 }];
    await truncate(path, MiB);
    const response = await fetch(url);
    await expect(response.arrayBuffer()).rejects.toThrow();

    const plain = await new ObjectStream([{ path, start: 0, end: 4 * MiB - 1 }]).ready();
    await expect(
      (async () => {
        for await (const _ of plain);
      })(),
    ).rejects.toThrow(/ended before byte/);
  });
});
