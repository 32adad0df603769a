import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bzip2, gzip, rawTar, zeroBomb } from '../../test/helpers/archives.js';
import { detectFormat, ExtractSink } from './extract.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gsm-extract-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const newRoot = async (): Promise<string> => {
  const root = join(await mkdtemp(join(scratch, 'x-')), 'root');
  await mkdir(root);
  return root;
};

/** Feeds `data` in odd-sized chunks, as a network would. */
const extract = async (
  root: string,
  data: Buffer,
  options: ConstructorParameters<typeof ExtractSink>[1] = {},
) => {
  const sink = new ExtractSink(root, options);
  for (let i = 0; i < data.length; i += 7_777) await sink.write(data.subarray(i, i + 7_777));
  return sink.finish();
};

const bytesUnder = async (dir: string): Promise<number> => {
  let total = 0;
  for (const name of await readdir(dir, { recursive: true })) {
    const s = await lstat(join(dir, name));
    if (s.isFile()) total += s.size;
  }
  return total;
};

const sample = rawTar([
  { path: 'game/', type: '5' },
  { path: 'game/readme.txt', body: Buffer.from('hello') },
  { path: 'game/lib/libx.so', body: Buffer.alloc(10_000, 3), mode: 0o755 },
  { path: 'game/libx.so', type: '2', linkpath: 'lib/libx.so' },
  { path: 'game/lib/up', type: '2', linkpath: '../readme.txt' },
]);

describe('ExtractSink', () => {
  it.each([
    ['tar', sample],
    ['gzip', gzip(sample)],
    ['bzip2', bzip2(sample)],
  ] as const)('detects %s by its magic bytes and extracts it', async (format, data) => {
    expect(detectFormat(data)).toBe(format);
    const root = await newRoot();
    const stats = await extract(root, data);
    expect(stats).toMatchObject({ files: 2, bytes: 10_005 });
    expect(await readFile(join(root, 'game', 'libx.so'))).toEqual(Buffer.alloc(10_000, 3));
    expect(await readFile(join(root, 'game', 'lib', 'up'), 'utf8')).toBe('hello');
  });

  it('falls back to bzip2 when lbzip2 is not there', async () => {
    const root = await newRoot();
    await extract(root, bzip2(sample), { bzip2: { prefer: ['bzip2'] } });
    expect(await readFile(join(root, 'game', 'readme.txt'), 'utf8')).toBe('hello');
  });

  it('falls back to the pure-JS decoder when the host has neither lbzip2 nor bzip2', async () => {
    const root = await newRoot();
    await extract(root, bzip2(sample), { bzip2: { prefer: ['js'] } });
    expect(await readFile(join(root, 'game', 'readme.txt'), 'utf8')).toBe('hello');
    expect(await readFile(join(root, 'game', 'libx.so'))).toEqual(Buffer.alloc(10_000, 3));
  });

  it('refuses a corrupt bzip2 with E_ARCHIVE_FORMAT on the pure-JS decoder too', async () => {
    const corrupt = Buffer.concat([bzip2(sample).subarray(0, 40), Buffer.alloc(400, 9)]);
    await expect(extract(await newRoot(), corrupt, { bzip2: { prefer: ['js'] } })).rejects.toMatchObject({
      code: 'E_ARCHIVE_FORMAT',
    });
  });

  it('fails with E_NO_BZIP2 when no bzip2 decoder is allowed', async () => {
    const root = await newRoot();
    await expect(extract(root, bzip2(sample), { bzip2: { prefer: [] } })).rejects.toMatchObject({
      code: 'E_NO_BZIP2',
    });
  });

  it.each([
    ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3])],
    ['random bytes', Buffer.alloc(4096, 0x41)],
    ['an empty file', Buffer.alloc(0)],
    ['three bytes', Buffer.from('abc')],
    ['a corrupt gzip', Buffer.concat([gzip(sample).subarray(0, 40), Buffer.alloc(400, 9)])],
    ['a corrupt bzip2', Buffer.concat([bzip2(sample).subarray(0, 40), Buffer.alloc(400, 9)])],
  ])('refuses %s with E_ARCHIVE_FORMAT', async (_name, data) => {
    await expect(extract(await newRoot(), data)).rejects.toMatchObject({ code: 'E_ARCHIVE_FORMAT' });
  });

  it('stops a bomb while it streams: little more than the cap reaches the disk', async () => {
    // Prepare: 64 files of 512 KiB of zeros (32 MiB) in a ~35 kB gzip; the cap is 4 MiB.
    const cap = 4 * 1024 * 1024;
    const bomb = zeroBomb(64, 512 * 1024);
    expect(bomb.length).toBeLessThan(100_000);
    const root = await newRoot();

    const error = await extract(root, bomb, { limits: { maxBytes: cap } }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'E_ARCHIVE_TOO_LARGE' });
    expect(await bytesUnder(root)).toBeLessThanOrEqual(cap);
  });

  it('refuses an entry that declares more than the cap before writing any of it', async () => {
    const root = await newRoot();
    const huge = gzip(rawTar([{ path: 'big.bin', size: 64 * 1024 * 1024 }]));
    await expect(extract(root, huge, { limits: { maxBytes: 1024 * 1024 } })).rejects.toMatchObject({
      code: 'E_ARCHIVE_TOO_LARGE',
    });
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses archives with more entries than allowed', async () => {
    const many = rawTar(Array.from({ length: 50 }, (_, i) => ({ path: `f${i}`, body: Buffer.from('x') })));
    await expect(extract(await newRoot(), many, { limits: { maxEntries: 20 } })).rejects.toMatchObject({
      code: 'E_ARCHIVE_TOO_LARGE',
    });
  });

  it('does not inflate what follows the end-of-archive blocks', async () => {
    const root = await newRoot();
    const trailing = Buffer.concat([sample, Buffer.alloc(64 * 1024 * 1024)]);
    const stats = await extract(root, gzip(trailing), { limits: { maxBytes: 1024 * 1024 } });
    expect(stats.files).toBe(2);
  });
});
