import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create, Header } from 'tar';

/**
 * Tarballs built at test time, never committed: a normal game-like tree and hostile archives
 * written header by header (node-tar itself would refuse to create most of them).
 */
export interface RawEntry {
  readonly path: string;
  /** Tar type flag: '0' file, '1' hardlink, '2' symlink, '3' char device, '5' dir, '6' FIFO. */
  readonly type?: '0' | '1' | '2' | '3' | '4' | '5' | '6';
  readonly body?: Buffer;
  /** Declared size when it differs from the body (bombs that stream zeros). */
  readonly size?: number;
  readonly linkpath?: string;
  readonly mode?: number;
}

const TYPE_NAMES = {
  '0': 'File',
  '1': 'Link',
  '2': 'SymbolicLink',
  '3': 'CharacterDevice',
  '4': 'BlockDevice',
  '5': 'Directory',
  '6': 'FIFO',
} as const;

export const rawHeader = (entry: RawEntry): Buffer => {
  const block = Buffer.alloc(512);
  const type = entry.type ?? '0';
  const header = new Header({
    path: entry.path,
    type: TYPE_NAMES[type],
    size: entry.size ?? entry.body?.length ?? 0,
    linkpath: entry.linkpath,
    mode: entry.mode ?? (type === '5' ? 0o755 : 0o644),
    mtime: new Date('2026-01-01T00:00:00Z'),
    uid: 0,
    gid: 0,
  });
  header.encode(block, 0);
  return block;
};

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

/** A tar stream of `entries`, ended with the two zero blocks. */
export const rawTar = (entries: readonly RawEntry[]): Buffer => {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(rawHeader(entry));
    const body = entry.body ?? Buffer.alloc(entry.size ?? 0);
    parts.push(body, pad(body.length));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
};

export const gzip = (tar: Buffer): Buffer => gzipSync(tar);

/** bzip2 through the system binary, which every Debian host has. */
export const bzip2 = (tar: Buffer): Buffer =>
  execFileSync('bzip2', ['-c'], { input: tar, maxBuffer: 1 << 30 });

/** A small game-like tree: an executable, text, a random "pak", a nested symlink and a hardlink. */
export const writeGameTree = async (dir: string): Promise<void> => {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'main', 'maps'), { recursive: true });
  await writeFile(join(dir, 'bin', 'server'), '#!/bin/sh\necho demo\n');
  await chmod(join(dir, 'bin', 'server'), 0o755);
  await writeFile(join(dir, 'main', 'server.cfg'), 'set sv_hostname "demo"\n'.repeat(200));
  await writeFile(join(dir, 'main', 'maps', 'mp_demo.pak'), randomBytes(300_000));
  await writeFile(join(dir, 'main', 'empty.txt'), '');
  await symlink('../main/server.cfg', join(dir, 'bin', 'server.cfg'));
  await link(join(dir, 'main', 'server.cfg'), join(dir, 'main', 'server.cfg.bak'));
};

export type PackageFormat = 'tar' | 'tar.gz' | 'tar.bz2';

/** Packs `dir` (its contents, not the folder itself) with node-tar, then compresses it. */
export const packTree = async (dir: string, format: PackageFormat, scratch: string): Promise<Buffer> => {
  const file = join(scratch, `pack-${randomBytes(4).toString('hex')}.tar`);
  await create({ cwd: dir, file, portable: true }, ['.']);
  const tar = await readFile(file);
  if (format === 'tar.gz') return gzip(tar);
  if (format === 'tar.bz2') return bzip2(tar);
  return tar;
};

export interface HostileArchive {
  readonly name: string;
  readonly tar: Buffer;
  readonly code: string;
}

const text = (s: string): Buffer => Buffer.from(s);

/** One archive per attack; each must be refused with `code` and leave nothing behind. */
export const hostileArchives = (): HostileArchive[] => [
  {
    name: 'dot-dot path',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([
      { path: 'ok.txt', body: text('ok') },
      { path: '../evil', body: text('x') },
    ]),
  },
  {
    name: 'nested dot-dot path',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([{ path: 'a/../../evil', body: text('x') }]),
  },
  { name: 'absolute path', code: 'E_ARCHIVE_UNSAFE', tar: rawTar([{ path: '/abs/evil', body: text('x') }]) },
  {
    name: 'symlink pointing out',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([{ path: 'ln', type: '2', linkpath: '../../etc' }]),
  },
  {
    name: 'absolute symlink',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([{ path: 'ln', type: '2', linkpath: '/etc' }]),
  },
  {
    name: 'symlink then a file written through it',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([
      { path: 'sub', type: '5' },
      { path: 'ln', type: '2', linkpath: 'sub' },
      { path: 'ln/evil', body: text('x') },
    ]),
  },
  {
    name: 'symlink that climbs after descending',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([{ path: 'a/ln', type: '2', linkpath: 'b/../../..' }]),
  },
  {
    name: 'hardlink to outside',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([{ path: 'hl', type: '1', linkpath: '../../etc/passwd' }]),
  },
  {
    name: 'hardlink to a symlink',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([
      { path: 'd/s', type: '2', linkpath: '../x' },
      { path: 'hl', type: '1', linkpath: 'd/s' },
    ]),
  },
  { name: 'char device', code: 'E_ARCHIVE_UNSAFE', tar: rawTar([{ path: 'null', type: '3' }]) },
  { name: 'FIFO', code: 'E_ARCHIVE_UNSAFE', tar: rawTar([{ path: 'pipe', type: '6' }]) },
  {
    name: 'symlink replacing a directory',
    code: 'E_ARCHIVE_UNSAFE',
    tar: rawTar([
      { path: 'x/y/z/f', body: text('x') },
      { path: 'x/y', type: '2', linkpath: '..' },
    ]),
  },
];

/**
 * A bomb: `files` entries of `each` zero bytes; gzipped it is a few kB per MiB. Each header
 * declares an honest size, so only the running total gives it away.
 */
export const zeroBomb = (files: number, each: number): Buffer =>
  gzip(rawTar(Array.from({ length: files }, (_, i) => ({ path: `zeros/${i}.bin`, size: each }))));
