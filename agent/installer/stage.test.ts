import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrigin, type TestOrigin } from '../../test/helpers/http-origin.js';
import { stagePackage } from './index.js';

const body = Buffer.alloc(200_000, 7);
const sha = createHash('sha256').update(body).digest('hex');
let scratch: string;
let source: TestOrigin;
let corrupt: TestOrigin;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gsm-stage-'));
  source = await startOrigin(new Map([['presigned', body]]), { dropAfter: 70_000 });
  corrupt = await startOrigin(new Map([['presigned', body]]), { corrupt: true });
});
afterAll(async () => {
  await source.close();
  await corrupt.close();
  await rm(scratch, { recursive: true, force: true });
});

const base = (webRoot: string) => ({
  url: source.url('presigned'),
  sha256: sha,
  size: body.length,
  webRoot,
  game: 'cod4x',
  version: '1.0.0',
  file: 'server.tar.bz2',
});

describe('stagePackage', () => {
  it('publishes the verified file under packages/<game>/<version>/ and is idempotent', async () => {
    const webRoot = await mkdtemp(join(scratch, 'www-'));

    const first = await stagePackage(base(webRoot));
    const mtime = (await stat(first.path)).mtimeMs;
    const second = await stagePackage(base(webRoot));

    expect(first).toMatchObject({
      urlPath: 'packages/cod4x/1.0.0/server.tar.bz2',
      bytes: body.length,
      reused: false,
    });
    expect(await readFile(first.path)).toEqual(body);
    expect(second).toMatchObject({ reused: true, path: first.path });
    expect((await stat(first.path)).mtimeMs).toBe(mtime);
    expect(await readdir(join(webRoot, 'packages', 'cod4x', '1.0.0'))).toEqual(['server.tar.bz2']);
    expect(source.requests.some((r) => r.range === 'bytes=70000-')).toBe(true);
  });

  it('publishes a file larger than its background flushes byte for byte, across a resumed download', async () => {
    // 150 MiB: two background fdatasyncs (every 64 MiB) run while the download goes on.
    const large = Buffer.alloc(150 * 1024 * 1024);
    for (let i = 0; i < large.length; i += 4096) large.writeUInt32LE(i, i);
    const origin = await startOrigin(new Map([['large', large]]), { dropAfter: 100 * 1024 * 1024 });
    try {
      const webRoot = await mkdtemp(join(scratch, 'www-'));
      const staged = await stagePackage({
        ...base(webRoot),
        url: origin.url('large'),
        sha256: createHash('sha256').update(large).digest('hex'),
        size: large.length,
      });
      expect(staged.bytes).toBe(large.length);
      expect((await readFile(staged.path)).equals(large)).toBe(true);
      expect(origin.requests.some((r) => r.range === `bytes=${100 * 1024 * 1024}-`)).toBe(true);
    } finally {
      await origin.close();
    }
  });

  it('leaves nothing behind when the hash does not match', async () => {
    const webRoot = await mkdtemp(join(scratch, 'www-'));
    await expect(stagePackage({ ...base(webRoot), url: corrupt.url('presigned') })).rejects.toMatchObject({
      code: 'E_HASH_MISMATCH',
    });
    expect(await readdir(join(webRoot, 'packages', 'cod4x', '1.0.0'))).toEqual([]);
  });

  it.each([
    { game: '..', version: '1', file: 'f' },
    { game: 'g', version: '../..', file: 'f' },
    { game: 'g', version: '1', file: '../../etc/passwd' },
    { game: 'g/h', version: '1', file: 'f' },
  ])('refuses path components that escape the web root: $game $version $file', async (names) => {
    const webRoot = await mkdtemp(join(scratch, 'www-'));
    await expect(stagePackage({ ...base(webRoot), ...names })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    });
  });

  it('refuses a package folder that a symlink carries outside the web root', async () => {
    const webRoot = await mkdtemp(join(scratch, 'www-'));
    const outside = await mkdtemp(join(scratch, 'outside-'));
    await mkdir(join(webRoot, 'packages'));
    await symlink(outside, join(webRoot, 'packages', 'cod4x'));
    await expect(stagePackage(base(webRoot))).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    expect(await readdir(outside)).toEqual([]);
  });
});
