import { mkdir, mkdtemp, readdir, readlink, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  current,
  listReleases,
  previous,
  prune,
  removeRelease,
  rollback,
  switchTo,
  uninstall,
} from './index.js';
import { writeMeta } from './releases.js';

let instanceDir: string;

const fakeRelease = async (version: string, minutesAgo: number): Promise<void> => {
  await mkdir(join(instanceDir, 'releases', version), { recursive: true });
  await writeFile(join(instanceDir, 'releases', version, 'server'), version);
  await writeMeta(instanceDir, {
    version,
    sha256: '0'.repeat(64),
    bytes: 1,
    origin: 'http://o',
    installedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  });
};

beforeEach(async () => {
  instanceDir = await mkdtemp(join(tmpdir(), 'gsm-releases-'));
});
afterEach(async () => {
  await rm(instanceDir, { recursive: true, force: true });
});

describe('releases', () => {
  it('switches current atomically and remembers the previous version', async () => {
    await fakeRelease('1.0.0', 10);
    await fakeRelease('1.1.0', 5);

    expect(await switchTo(instanceDir, '1.0.0')).toEqual({ current: '1.0.0', previous: undefined });
    expect(await switchTo(instanceDir, '1.1.0')).toEqual({ current: '1.1.0', previous: '1.0.0' });

    expect(await readlink(join(instanceDir, 'current'))).toBe('releases/1.1.0');
    expect(await previous(instanceDir)).toBe('1.0.0');
    expect((await readdir(instanceDir)).sort()).toEqual(['current', 'previous', 'releases']);
  });

  it('rolls back to the previous version, and back again', async () => {
    await fakeRelease('1.0.0', 10);
    await fakeRelease('1.1.0', 5);
    await switchTo(instanceDir, '1.0.0');
    await switchTo(instanceDir, '1.1.0');

    expect(await rollback(instanceDir)).toEqual({ current: '1.0.0', previous: '1.1.0' });
    expect(await current(instanceDir)).toBe('1.0.0');
    expect(await rollback(instanceDir)).toEqual({ current: '1.1.0', previous: '1.0.0' });
  });

  it('refuses to switch to a version that is not installed or has a hostile name', async () => {
    await expect(switchTo(instanceDir, '9.9.9')).rejects.toMatchObject({ code: 'E_RELEASE' });
    await expect(switchTo(instanceDir, '../../etc')).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    await expect(rollback(instanceDir)).rejects.toMatchObject({ code: 'E_RELEASE' });
  });

  it('prunes to the newest N, never current, previous or a protected version', async () => {
    for (const [i, v] of ['1', '2', '3', '4', '5', '6'].entries()) await fakeRelease(v, 60 - i);
    await switchTo(instanceDir, '2');
    await switchTo(instanceDir, '1');

    const removed = await prune(instanceDir, { keep: 2, protect: ['3'] });

    expect(removed.sort()).toEqual(['4']);
    expect((await listReleases(instanceDir)).map((r) => r.version)).toEqual(['1', '2', '3', '5', '6']);
  });

  it('keeps 3 releases by default and orders by install time even without metadata', async () => {
    for (const [i, v] of ['a', 'b', 'c', 'd'].entries()) {
      await mkdir(join(instanceDir, 'releases', v), { recursive: true });
      const t = new Date(Date.now() - (10 - i) * 60_000);
      await utimes(join(instanceDir, 'releases', v), t, t);
    }
    expect(await prune(instanceDir)).toEqual(['a']);
  });

  it('removes a release but never the current one, and uninstalls everything', async () => {
    await fakeRelease('1.0.0', 10);
    await fakeRelease('1.1.0', 5);
    await switchTo(instanceDir, '1.0.0');
    await switchTo(instanceDir, '1.1.0');

    await expect(removeRelease(instanceDir, '1.1.0')).rejects.toMatchObject({ code: 'E_RELEASE' });
    await removeRelease(instanceDir, '1.0.0');
    expect(await previous(instanceDir)).toBeUndefined();

    await uninstall(instanceDir);
    expect(await readdir(instanceDir)).toEqual([]);
  });
});
