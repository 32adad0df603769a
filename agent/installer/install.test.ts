import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bzip2,
  gzip,
  hostileArchives,
  packTree,
  rawTar,
  writeGameTree,
} from '../../test/helpers/archives.js';
import { deadOriginUrl, startOrigin, type TestOrigin } from '../../test/helpers/http-origin.js';
import { current, installPackage, switchTo } from './index.js';

const sha = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex');

/** Every path under `dir` with its type and size, to prove nothing else changed. */
const scan = async (dir: string): Promise<string[]> => {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const name of await readdir(d)) {
      const p = join(d, name);
      const s = await lstat(p);
      out.push(`${relative(dir, p)} ${s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : s.size}`);
      if (s.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
};

let scratch: string;
let packages: Map<string, Buffer>;
let good: TestOrigin;
let corrupt: TestOrigin;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gsm-install-'));
  const tree = join(scratch, 'tree');
  await writeGameTree(tree);
  packages = new Map();
  for (const format of ['tar', 'tar.gz', 'tar.bz2'] as const) {
    packages.set(`demo.${format}`, await packTree(tree, format, scratch));
  }
  // Same bytes under a misleading name: the format comes from the magic bytes.
  packages.set('demo-misnamed.tar', packages.get('demo.tar.gz')!);
  good = await startOrigin(packages);
  corrupt = await startOrigin(packages, { corrupt: true });
});

afterAll(async () => {
  await good?.close();
  await corrupt?.close();
  await rm(scratch, { recursive: true, force: true });
});

const newInstance = async (): Promise<string> => {
  const dir = await mkdtemp(join(scratch, 'instance-'));
  return dir;
};

describe('installPackage', () => {
  it.each(['tar.gz', 'tar.bz2', 'tar'])(
    'installs a .%s from the first good origin after a dead and a corrupt one',
    async (format) => {
      // Prepare
      const name = `demo.${format}`;
      const pkg = packages.get(name)!;
      const instanceDir = await newInstance();
      const progress: number[] = [];

      // Act
      const result = await installPackage({
        urls: [await deadOriginUrl(name), corrupt.url(name), good.url(name)],
        sha256: sha(pkg),
        size: pkg.length,
        version: '1.0.0',
        instanceDir,
        onProgress: (bytes) => progress.push(bytes),
      });

      // Assess
      expect(result).toMatchObject({
        version: '1.0.0',
        origin: good.url(name),
        bytes: pkg.length,
        reused: false,
      });
      const root = join(instanceDir, 'releases', '1.0.0');
      expect(result.path).toBe(root);
      expect((await stat(join(root, 'bin', 'server'))).mode & 0o777).toBe(0o755);
      expect(await readlink(join(root, 'bin', 'server.cfg'))).toBe('../main/server.cfg');
      expect((await stat(join(root, 'main', 'server.cfg.bak'))).ino).toBe(
        (await stat(join(root, 'main', 'server.cfg'))).ino,
      );
      expect((await readFile(join(root, 'main', 'maps', 'mp_demo.pak'))).length).toBe(300_000);
      expect(progress.at(-1)).toBe(pkg.length);
      const entries = await readdir(join(instanceDir, 'releases'));
      expect(entries.filter((e) => e.startsWith('.staging'))).toEqual([]);
    },
  );

  it('detects the format by magic bytes, not by the file name', async () => {
    const pkg = packages.get('demo-misnamed.tar')!;
    const instanceDir = await newInstance();
    await installPackage({
      urls: [good.url('demo-misnamed.tar')],
      sha256: sha(pkg),
      version: '1.0.0',
      instanceDir,
    });
    expect((await readdir(join(instanceDir, 'releases', '1.0.0'))).sort()).toEqual(['bin', 'main']);
  });

  it('resumes with a Range request after the origin drops the connection mid-download', async () => {
    const name = 'demo.tar.gz';
    const pkg = packages.get(name)!;
    const dropping = await startOrigin(packages, { dropAfter: 100_000 });
    try {
      const instanceDir = await newInstance();
      const result = await installPackage({
        urls: [dropping.url(name)],
        sha256: sha(pkg),
        version: '1.0.0',
        instanceDir,
      });
      expect(result.origin).toBe(dropping.url(name));
      expect(dropping.requests.map((r) => [r.range, r.status])).toEqual([
        [undefined, 200],
        ['bytes=100000-', 206],
      ]);
      expect(dropping.requests[1]?.ifRange).toMatch(/^"/);
    } finally {
      await dropping.close();
    }
  });

  it('resumes from an origin that ignores Range by skipping what it already has', async () => {
    const name = 'demo.tar.gz';
    const pkg = packages.get(name)!;
    const origin = await startOrigin(packages, { dropAfter: 50_000, noRanges: true });
    try {
      const instanceDir = await newInstance();
      await installPackage({ urls: [origin.url(name)], sha256: sha(pkg), version: '1.0.0', instanceDir });
      expect(origin.requests.map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await origin.close();
    }
  });

  it('fails over when an origin stalls', async () => {
    const name = 'demo.tar';
    const pkg = packages.get(name)!;
    const stalled = await startOrigin(packages, { stall: true });
    try {
      const instanceDir = await newInstance();
      const result = await installPackage({
        urls: [stalled.url(name), good.url(name)],
        sha256: sha(pkg),
        version: '1.0.0',
        instanceDir,
        stallMs: 300,
      });
      expect(result.origin).toBe(good.url(name));
    } finally {
      await stalled.close();
    }
  });

  it('deletes the extraction on a hash mismatch and changes nothing else', async () => {
    const name = 'demo.tar.gz';
    const pkg = packages.get(name)!;
    const instanceDir = await newInstance();
    await installPackage({ urls: [good.url(name)], sha256: sha(pkg), version: '1.0.0', instanceDir });
    const before = await scan(scratch);

    const error = await installPackage({
      urls: [corrupt.url(name)],
      sha256: sha(pkg),
      version: '1.1.0',
      instanceDir,
    }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'E_HASH_MISMATCH', origin: corrupt.url(name), expected: sha(pkg) });
    expect(String((error as Error).message)).toContain(corrupt.url(name));
    expect(await scan(scratch)).toEqual(before);
  });

  it('reports every origin when all fail', async () => {
    const name = 'demo.tar.gz';
    const pkg = packages.get(name)!;
    const error = await installPackage({
      urls: [await deadOriginUrl(name), corrupt.url(name)],
      sha256: sha(pkg),
      version: '1.0.0',
      instanceDir: await newInstance(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ALL_ORIGINS_FAILED' });
    expect((error as { failures: { error: { code: string } }[] }).failures.map((f) => f.error.code)).toEqual([
      'E_DOWNLOAD',
      'E_HASH_MISMATCH',
    ]);
  });

  it('pre-stages a new version without touching the running one', async () => {
    const name = 'demo.tar.gz';
    const pkg = packages.get(name)!;
    const instanceDir = await newInstance();
    await installPackage({ urls: [good.url(name)], sha256: sha(pkg), version: '1.0.0', instanceDir });
    await switchTo(instanceDir, '1.0.0');
    const running = await scan(join(instanceDir, 'releases', '1.0.0'));

    await installPackage({ urls: [good.url(name)], sha256: sha(pkg), version: '1.1.0', instanceDir });
    await installPackage({
      urls: [corrupt.url(name)],
      sha256: sha(pkg),
      version: '1.2.0',
      instanceDir,
    }).catch(() => {});

    expect(await current(instanceDir)).toBe('1.0.0');
    expect(await scan(join(instanceDir, 'releases', '1.0.0'))).toEqual(running);
    await expect(
      installPackage({ urls: [good.url(name)], sha256: 'ab'.repeat(32), version: '1.0.0', instanceDir }),
    ).rejects.toMatchObject({ code: 'E_RELEASE' });
  });

  it('removes staging folders left by an agent that died mid-install', async () => {
    const name = 'demo.tar';
    const pkg = packages.get(name)!;
    const instanceDir = await newInstance();
    await mkdir(join(instanceDir, 'releases', '.staging-1.0.0-dead', 'bin'), { recursive: true });
    await installPackage({ urls: [good.url(name)], sha256: sha(pkg), version: '1.0.0', instanceDir });
    expect(await readdir(join(instanceDir, 'releases'))).toEqual(['.meta', '1.0.0']);
  });

  it('is idempotent for the same version and hash', async () => {
    const name = 'demo.tar';
    const pkg = packages.get(name)!;
    const instanceDir = await newInstance();
    const args = { urls: [good.url(name)], sha256: sha(pkg), version: '2.0.0', instanceDir };
    await installPackage(args);
    expect(await installPackage(args)).toMatchObject({ reused: true });

    await rm(join(instanceDir, 'releases', '2.0.0'), { recursive: true });
    expect(await installPackage(args)).toMatchObject({ reused: false });
  });

  describe('refuses hostile archives, leaving nothing behind', () => {
    const cases = hostileArchives().flatMap((a) => [
      { ...a, label: `${a.name} (.tar.gz)`, pkg: gzip(a.tar) },
      { ...a, label: `${a.name} (.tar)`, pkg: a.tar },
    ]);
    cases.push(
      ...hostileArchives()
        .slice(0, 1)
        .map((a) => ({ ...a, label: `${a.name} (.tar.bz2)`, pkg: bzip2(a.tar) })),
    );

    it.each(cases)('$label → $code', async ({ pkg, code }) => {
      const origin = await startOrigin(new Map([['evil', pkg]]));
      try {
        const parent = await mkdtemp(join(scratch, 'hostile-'));
        const instanceDir = join(parent, 'instances', 'demo');
        await mkdir(instanceDir, { recursive: true });
        const before = await scan(parent);
        const error = await installPackage({
          urls: [origin.url('evil')],
          sha256: sha(pkg),
          version: '1.0.0',
          instanceDir,
        }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code });
        const after = (await scan(parent)).filter((p) => !p.startsWith('instances/demo/releases '));
        expect(after).toEqual(before);
        expect(await readdir(join(instanceDir, 'releases'))).toEqual([]);
      } finally {
        await origin.close();
      }
    });
  });

  it('refuses a truncated archive whose hash matches with E_ARCHIVE_FORMAT', async () => {
    const tar = rawTar([{ path: 'a.bin', body: Buffer.alloc(5000, 1) }]).subarray(0, 2048);
    const origin = await startOrigin(new Map([['t.tar', tar]]));
    try {
      const error = await installPackage({
        urls: [origin.url('t.tar')],
        sha256: sha(tar),
        version: '1.0.0',
        instanceDir: await newInstance(),
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_ARCHIVE_FORMAT' });
    } finally {
      await origin.close();
    }
  });

  it('cleans up when cancelled through the signal', async () => {
    const name = 'demo.tar.gz';
    const pkg = packages.get(name)!;
    const stalled = await startOrigin(packages, { dropAfter: 60_000, dropTimes: 0 });
    const slow = await startOrigin(packages, { stall: true });
    try {
      const instanceDir = await newInstance();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const error = await installPackage({
        urls: [slow.url(name)],
        sha256: sha(pkg),
        version: '1.0.0',
        instanceDir,
        signal: controller.signal,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_ABORTED' });
      expect(await readdir(join(instanceDir, 'releases'))).toEqual([]);
    } finally {
      await stalled.close();
      await slow.close();
    }
  });
});
