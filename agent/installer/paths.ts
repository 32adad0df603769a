import { ArchiveError } from './errors.js';

/**
 * What the archive has put where so far, decided while parsing (before any file operation
 * runs), so every check sees the whole tree the archive describes even while writes are still
 * in flight. Directories never become anything else and nothing is ever created beneath a
 * symlink; with symlink targets that only climb real directories (see `checkSymlinkTarget`)
 * no path, however resolved, leaves the release folder.
 */
export type EntryKind = 'dir' | 'file' | 'symlink';

const unsafe = (message: string, entry: string): ArchiveError =>
  new ArchiveError('E_ARCHIVE_UNSAFE', message, entry);

/** An archive path as components below the release root: no `..`, not absolute, no NUL. */
export const splitEntryPath = (raw: string): string[] => {
  if (raw.includes('\0')) throw unsafe('entry name contains a NUL byte', raw);
  if (raw.startsWith('/')) throw unsafe('absolute path in archive', raw);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe('path with .. in archive', raw);
  return parts;
};

/**
 * A symlink may climb (`../`) only at the start and no higher than its own directory's depth,
 * then only descend: `../lib/x.so` is fine, `a/../../x` and `/etc` are not. Leading `..` steps
 * resolve through real directories (the link's parents are never symlinks), and descending
 * can only reach links that obey the same rule, so the target stays inside the root.
 */
export const checkSymlinkTarget = (entryParts: readonly string[], target: string, raw: string): void => {
  if (target === '') throw unsafe('symlink with an empty target', raw);
  if (target.includes('\0')) throw unsafe('symlink target contains a NUL byte', raw);
  if (target.startsWith('/')) throw unsafe(`symlink to an absolute path (${target})`, raw);
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  let up = 0;
  while (parts[up] === '..') up += 1;
  if (parts.indexOf('..', up) !== -1) throw unsafe(`symlink target goes down then up (${target})`, raw);
  if (up > entryParts.length - 1) throw unsafe(`symlink points outside the release (${target})`, raw);
};

export class TreeModel {
  readonly #kinds = new Map<string, EntryKind>();
  #lastParent = '\0';

  kindOf(rel: string): EntryKind | undefined {
    return this.#kinds.get(rel);
  }

  /**
   * Registers `parts` as an entry of `kind`; throws when a parent is not a directory, when a
   * directory would be replaced or shadowed. Returns whether an earlier non-directory entry is
   * being replaced (the writer unlinks it first, never writing through it).
   */
  claim(parts: readonly string[], kind: EntryKind, raw: string): boolean {
    const rel = parts.join('/');
    const parent = parts.slice(0, -1);
    const parentRel = parent.join('/');
    if (parentRel !== this.#lastParent) {
      let prefix = '';
      for (const part of parent) {
        prefix = prefix ? `${prefix}/${part}` : part;
        const existing = this.#kinds.get(prefix);
        if (existing === undefined) this.#kinds.set(prefix, 'dir');
        else if (existing !== 'dir') throw unsafe(`entry below a ${existing}, not a directory`, raw);
      }
      this.#lastParent = parentRel;
    }
    const existing = this.#kinds.get(rel);
    if (kind === 'dir') {
      if (existing !== undefined && existing !== 'dir')
        throw unsafe(`directory over an earlier ${existing}`, raw);
      this.#kinds.set(rel, 'dir');
      return false;
    }
    if (existing === 'dir') throw unsafe(`${kind} over an earlier directory`, raw);
    this.#kinds.set(rel, kind);
    return existing !== undefined;
  }
}
