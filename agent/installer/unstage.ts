import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, realpath, rename, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import { InstallerError } from './errors.js';
import { component } from './stage.js';

export interface UnstageOptions {
  readonly webRoot: string;
  readonly game: string;
  readonly version: string;
  readonly file: string;
  readonly logger?: Logger;
}

export interface UnstageResult {
  /** Path below the web root that no longer serves the package. */
  readonly urlPath: string;
  /** False when nothing was published there (already removed, or never staged). */
  readonly removed: boolean;
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Each level must be a real directory: a planted symlink must not lead the removal outside the web root. */
const existingRealDir = async (root: string, names: readonly string[]): Promise<string | undefined> => {
  let dir = root;
  for (const name of names) {
    dir = join(dir, name);
    const found = await lstat(dir).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    if (!found) return undefined;
    if (!found.isDirectory()) {
      throw new InstallerError('E_INVALID_ARGUMENT', `${dir} is not a plain directory inside the web root`);
    }
  }
  return dir;
};

const syncDir = async (dir: string) => {
  const handle = await open(dir, 'r');
  await handle.sync().finally(() => handle.close());
};

/**
 * Origin role, the reverse of stagePackage: removes `<webRoot>/packages/<game>/<version>/<file>`.
 * The file is first renamed to a hidden name in the same folder (one atomic step: the web server
 * serves the whole file or a 404, never a truncated one), then unlinked; a crash in between
 * leaves a hidden leftover that the next unstage of that file sweeps. Already gone is success.
 * Only a regular file at exactly that path is removed: components are checked as stage checks
 * them, and a symlink at any level is refused.
 */
export const unstagePackage = async (options: UnstageOptions): Promise<UnstageResult> => {
  const parts = [
    'packages',
    component('game', options.game),
    component('version', options.version),
    component('file', options.file),
  ];
  const urlPath = parts.join('/');
  const root = await realpath(options.webRoot);
  const dir = await existingRealDir(root, parts.slice(0, -1));
  if (!dir) return { urlPath, removed: false };

  const target = join(dir, options.file);
  const found = await lstat(target).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  let removed = false;
  if (found) {
    if (!found.isFile()) {
      throw new InstallerError('E_INVALID_ARGUMENT', `${target} is not a regular file; not removing it`);
    }
    const doomed = join(dir, `.${options.file}.${randomBytes(6).toString('hex')}.deleting`);
    await rename(target, doomed);
    await syncDir(dir);
    removed = true;
  }
  const prefix = `.${options.file}.`;
  for (const name of await readdir(dir)) {
    if (name.startsWith(prefix) && name.endsWith('.deleting') && !name.slice(prefix.length).includes('/')) {
      await unlink(join(dir, name)).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
    }
  }
  // The version folder belongs to this one package; the game folder is left alone, since a
  // stage of another version may be creating its folder inside it right now.
  await rmdir(dir).catch(() => {});
  if (removed) options.logger?.info({ path: target }, 'package unstaged');
  return { urlPath, removed };
};
