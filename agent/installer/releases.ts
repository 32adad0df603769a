import { randomBytes } from 'node:crypto';
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InstallerError } from './errors.js';

/**
 * One instance's builds: `releases/<version>/` folders, `current` and `previous` symlinks
 * (relative, so an instance folder can move), and `releases/.meta/<version>.json` with what was
 * installed. Links are switched with a temporary symlink renamed over the old one, so a reader
 * always sees either the old or the new target, never none.
 */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export const DEFAULT_KEEP = 3;

export const checkVersion = (version: string): string => {
  if (!VERSION.test(version) || version === '..' || version.includes('..')) {
    throw new InstallerError('E_INVALID_ARGUMENT', `not a usable version name: ${JSON.stringify(version)}`);
  }
  return version;
};

export const releasesDir = (instanceDir: string): string => join(instanceDir, 'releases');
export const releaseDir = (instanceDir: string, version: string): string =>
  join(releasesDir(instanceDir), checkVersion(version));
const metaFile = (instanceDir: string, version: string): string =>
  join(releasesDir(instanceDir), '.meta', `${checkVersion(version)}.json`);

export interface ReleaseMeta {
  readonly version: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly origin: string;
  readonly installedAt: string;
}

export interface ReleaseInfo {
  readonly version: string;
  readonly path: string;
  readonly installedAt: Date;
  readonly sha256: string | undefined;
}

export const readMeta = async (instanceDir: string, version: string): Promise<ReleaseMeta | undefined> => {
  try {
    return JSON.parse(await readFile(metaFile(instanceDir, version), 'utf8')) as ReleaseMeta;
  } catch {
    return undefined;
  }
};

export const writeMeta = async (instanceDir: string, meta: ReleaseMeta): Promise<void> => {
  const file = metaFile(instanceDir, meta.version);
  await mkdir(join(releasesDir(instanceDir), '.meta'), { recursive: true });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(meta)}\n`);
  await rename(temp, file);
};

const readVersionLink = async (
  instanceDir: string,
  name: 'current' | 'previous',
): Promise<string | undefined> => {
  try {
    return basename(await readlink(join(instanceDir, name)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

const setVersionLink = async (
  instanceDir: string,
  name: 'current' | 'previous',
  version: string,
): Promise<void> => {
  const temp = join(instanceDir, `.${name}.${randomBytes(4).toString('hex')}`);
  await symlink(join('releases', version), temp);
  try {
    await rename(temp, join(instanceDir, name));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
};

/** The version `current` points to, if any. */
export const current = (instanceDir: string): Promise<string | undefined> =>
  readVersionLink(instanceDir, 'current');

/** The version `current` pointed to before the last switch: the rollback target. */
export const previous = (instanceDir: string): Promise<string | undefined> =>
  readVersionLink(instanceDir, 'previous');

const isDirectory = async (path: string): Promise<boolean> => {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
};

export interface SwitchResult {
  readonly current: string;
  readonly previous: string | undefined;
}

/** Points `current` at an installed version; the version it leaves becomes `previous`. */
export const switchTo = async (instanceDir: string, version: string): Promise<SwitchResult> => {
  if (!(await isDirectory(releaseDir(instanceDir, version)))) {
    throw new InstallerError('E_RELEASE', `version ${version} is not installed in ${instanceDir}`);
  }
  const old = await current(instanceDir);
  if (old === version) return { current: version, previous: await previous(instanceDir) };
  if (old) await setVersionLink(instanceDir, 'previous', old);
  await setVersionLink(instanceDir, 'current', version);
  return { current: version, previous: old };
};

/** Switches back to `previous`; doing it twice returns to where it started. */
export const rollback = async (instanceDir: string): Promise<SwitchResult> => {
  const target = await previous(instanceDir);
  if (!target) throw new InstallerError('E_RELEASE', `no previous version to roll back to in ${instanceDir}`);
  return switchTo(instanceDir, target);
};

/** Installed versions, oldest first. */
export const listReleases = async (instanceDir: string): Promise<ReleaseInfo[]> => {
  let names: string[];
  try {
    names = await readdir(releasesDir(instanceDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const infos: ReleaseInfo[] = [];
  for (const name of names) {
    if (name.startsWith('.') || !VERSION.test(name)) continue;
    const path = join(releasesDir(instanceDir), name);
    if (!(await isDirectory(path))) continue;
    const meta = await readMeta(instanceDir, name);
    const installedAt = meta ? new Date(meta.installedAt) : (await stat(path)).mtime;
    infos.push({ version: name, path, installedAt, sha256: meta?.sha256 });
  }
  return infos.sort(
    (a, b) => a.installedAt.getTime() - b.installedAt.getTime() || a.version.localeCompare(b.version),
  );
};

export interface PruneOptions {
  /** How many of the newest releases to keep (default 3). */
  readonly keep?: number;
  /** Versions never removed, e.g. the target of a switch about to happen. */
  readonly protect?: readonly string[];
}

/** Removes all but the newest `keep` releases; `current`, `previous` and `protect` always stay. */
export const prune = async (instanceDir: string, options: PruneOptions = {}): Promise<string[]> => {
  const keep = options.keep ?? DEFAULT_KEEP;
  const releases = await listReleases(instanceDir);
  const kept = new Set([
    ...releases.slice(Math.max(0, releases.length - keep)).map((r) => r.version),
    ...(options.protect ?? []),
  ]);
  for (const link of [await current(instanceDir), await previous(instanceDir)]) if (link) kept.add(link);
  const removed: string[] = [];
  for (const release of releases) {
    if (kept.has(release.version)) continue;
    await removeRelease(instanceDir, release.version);
    removed.push(release.version);
  }
  return removed;
};

/** Removes one installed version; never the one `current` points to. */
export const removeRelease = async (instanceDir: string, version: string): Promise<void> => {
  if ((await current(instanceDir)) === version) {
    throw new InstallerError('E_RELEASE', `version ${version} is current; switch away from it first`);
  }
  // Rename first so a half-deleted folder is never mistaken for a release.
  const dir = releaseDir(instanceDir, version);
  const trash = join(releasesDir(instanceDir), `.trash-${version}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rm(trash, { recursive: true, force: true });
  await rm(metaFile(instanceDir, version), { force: true });
  if ((await previous(instanceDir)) === version) await rm(join(instanceDir, 'previous'), { force: true });
};

/** Removes every release and both links; the game server must already be stopped. */
export const uninstall = async (instanceDir: string): Promise<void> => {
  await rm(join(instanceDir, 'current'), { force: true });
  await rm(join(instanceDir, 'previous'), { force: true });
  await rm(releasesDir(instanceDir), { recursive: true, force: true });
};
