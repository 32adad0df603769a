import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unstagePackage } from './index.js';

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gsm-unstage-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const target = { game: 'cod4x', version: '1.0.0', file: 'server.tar.bz2' };

/** A web root with the package published as stage publishes it, plus another version beside it. */
const publishedRoot = async () => {
  const webRoot = await mkdtemp(join(scratch, 'www-'));
  await mkdir(join(webRoot, 'packages', 'cod4x', '1.0.0'), { recursive: true });
  await mkdir(join(webRoot, 'packages', 'cod4x', '0.9.0'), { recursive: true });
  await writeFile(join(webRoot, 'packages', 'cod4x', '1.0.0', 'server.tar.bz2'), 'build 1.0.0');
  await writeFile(join(webRoot, 'packages', 'cod4x', '0.9.0', 'server.tar.bz2'), 'build 0.9.0');
  return webRoot;
};

const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

describe('unstagePackage', () => {
  it('removes the published file and its version folder, and leaves other versions', async () => {
    // Arrange
    const webRoot = await publishedRoot();

    // Act
    const result = await unstagePackage({ webRoot, ...target });

    // Assert
    expect(result).toEqual({ urlPath: 'packages/cod4x/1.0.0/server.tar.bz2', removed: true });
    expect(await exists(join(webRoot, 'packages', 'cod4x', '1.0.0'))).toBe(false);
    expect(await readFile(join(webRoot, 'packages', 'cod4x', '0.9.0', 'server.tar.bz2'), 'utf8')).toBe(
      'build 0.9.0',
    );
  });

  it('is idempotent: a second run, or a package never staged here, succeeds with removed false', async () => {
    // Arrange
    const webRoot = await publishedRoot();
    await unstagePackage({ webRoot, ...target });

    // Act
    const again = await unstagePackage({ webRoot, ...target });
    const never = await unstagePackage({ webRoot, game: 'other', version: '2.0.0', file: 'x.tar.gz' });

    // Assert
    expect(again.removed).toBe(false);
    expect(never.removed).toBe(false);
  });

  it('sweeps the hidden leftover of a removal that crashed between rename and unlink', async () => {
    // Arrange
    const webRoot = await publishedRoot();
    const dir = join(webRoot, 'packages', 'cod4x', '1.0.0');
    await writeFile(join(dir, '.server.tar.bz2.0123456789ab.deleting'), 'half-removed');
    await writeFile(join(dir, 'notes.txt'), 'not ours');

    // Act
    await unstagePackage({ webRoot, ...target });

    // Assert: the folder stays for the file that is not this package's.
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  it('refuses unsafe components: "..", separators, hidden names, control characters, 300 characters', async () => {
    // Arrange
    const webRoot = await publishedRoot();
    const bad = [
      { ...target, version: '..' },
      { ...target, game: '../etc' },
      { ...target, file: 'a/b' },
      { ...target, file: '.hidden' },
      { ...target, version: '1.0\n0' },
      { ...target, file: 'x'.repeat(300) },
    ];

    // Act
    const outcomes = await Promise.allSettled(bad.map((b) => unstagePackage({ webRoot, ...b })));

    // Assert
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'E_INVALID_ARGUMENT' } });
    }
    expect(await exists(join(webRoot, 'packages', 'cod4x', '1.0.0', 'server.tar.bz2'))).toBe(true);
  });

  it('refuses a symlinked folder or file instead of following it out of the web root', async () => {
    // Arrange: the version folder and, elsewhere, the file are links to a victim outside.
    const outside = await mkdtemp(join(scratch, 'victim-'));
    await writeFile(join(outside, 'server.tar.bz2'), 'not yours');
    const linkedDir = await mkdtemp(join(scratch, 'www-'));
    await mkdir(join(linkedDir, 'packages', 'cod4x'), { recursive: true });
    await symlink(outside, join(linkedDir, 'packages', 'cod4x', '1.0.0'));
    const linkedFile = await mkdtemp(join(scratch, 'www-'));
    await mkdir(join(linkedFile, 'packages', 'cod4x', '1.0.0'), { recursive: true });
    await symlink(
      join(outside, 'server.tar.bz2'),
      join(linkedFile, 'packages', 'cod4x', '1.0.0', 'server.tar.bz2'),
    );

    // Act
    const viaDir = unstagePackage({ webRoot: linkedDir, ...target });
    const viaFile = unstagePackage({ webRoot: linkedFile, ...target });

    // Assert
    await expect(viaDir).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    await expect(viaFile).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    expect(await readFile(join(outside, 'server.tar.bz2'), 'utf8')).toBe('not yours');
  });
});
