import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import { fetchBody, throttle } from './download.js';
import { InstallerError } from './errors.js';
import { normalizeSha256, StreamVerifier } from './verify.js';

export interface StageOptions {
  /** Where to fetch the package from, typically a presigned S3 GET. */
  readonly url: string;
  readonly sha256: string;
  readonly size?: number;
  readonly webRoot: string;
  readonly game: string;
  readonly version: string;
  readonly file: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (bytes: number, total: number | undefined) => void;
  readonly logger?: Logger;
  readonly stallMs?: number;
  readonly resumeAttempts?: number;
}

export interface StageResult {
  /** Absolute path of the published file. */
  readonly path: string;
  /** Path below the web root, the URL path hosts will download. */
  readonly urlPath: string;
  readonly bytes: number;
  readonly sha256: string;
  /** True when the same file was already published. */
  readonly reused: boolean;
}

const COMPONENT = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

/** One level of `packages/<game>/<version>/<file>`: no separators, no `..`, nothing hidden. */
export const component = (label: string, value: string): string => {
  if (!COMPONENT.test(value) || value.includes('..')) {
    throw new InstallerError(
      'E_INVALID_ARGUMENT',
      `${label} is not a safe path component: ${JSON.stringify(value)}`,
    );
  }
  return value;
};

const hashFile = async (path: string): Promise<string> => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

/** Bytes gathered before one write: socket chunks are 64 KiB, and a write per chunk is a thread-pool round trip each. */
const WRITE_BATCH = 4 * 1024 * 1024;

/**
 * Writes a stream of chunks in WRITE_BATCH-sized writes, with one write in flight while the
 * next batch fills (two batches of memory at most); `add` waits only when both are busy.
 */
const batchedWriter = (handle: FileHandle) => {
  let batch: Buffer = Buffer.allocUnsafeSlow(WRITE_BATCH);
  let spare: Buffer | undefined = Buffer.allocUnsafeSlow(WRITE_BATCH);
  let filled = 0;
  let position = 0;
  let inFlight: Promise<Buffer> | undefined;
  const writeAll = async (buffer: Buffer, length: number, at: number): Promise<Buffer> => {
    for (let done = 0; done < length; ) {
      done += (await handle.write(buffer, done, length - done, at + done)).bytesWritten;
    }
    return buffer;
  };
  const flush = async () => {
    if (filled === 0) return;
    // The previous write must finish before its buffer can take the next batch.
    if (!spare) spare = await inFlight;
    inFlight = writeAll(batch, filled, position);
    // Seen by the next flush or by end; until then a failure must not count as unhandled.
    inFlight.catch(() => {});
    position += filled;
    batch = spare as Buffer;
    spare = undefined;
    filled = 0;
  };
  return {
    async add(chunk: Buffer) {
      for (let offset = 0; offset < chunk.length; ) {
        const n = chunk.copy(batch, filled, offset);
        filled += n;
        offset += n;
        if (filled === batch.length) await flush();
      }
    },
    async end() {
      await flush();
      await inFlight;
    },
  };
};

/**
 * Creates `root/a/b/c` one level at a time, refusing any level that exists as a symlink (or
 * anything but a directory): a link planted in the web root must not carry the file elsewhere.
 */
const makeRealDirs = async (root: string, names: readonly string[]): Promise<string> => {
  let dir = root;
  for (const name of names) {
    dir = join(dir, name);
    const found = await lstat(dir).catch(() => undefined);
    if (!found)
      await mkdir(dir, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    const now = await lstat(dir);
    if (!now.isDirectory()) {
      throw new InstallerError('E_INVALID_ARGUMENT', `${dir} is not a plain directory inside the web root`);
    }
  }
  return dir;
};

/**
 * Origin role: fetches a package, verifies it while writing, and publishes it at
 * `<webRoot>/packages/<game>/<version>/<file>` with a rename, so the web server serves either
 * nothing or the whole verified file. Publishing the same file twice is a no-op.
 */
export const stagePackage = async (options: StageOptions): Promise<StageResult> => {
  const sha256 = normalizeSha256(options.sha256);
  const parts = [
    'packages',
    component('game', options.game),
    component('version', options.version),
    component('file', options.file),
  ];
  const root = await realpath(options.webRoot);
  const dir = await makeRealDirs(root, parts.slice(0, -1));
  const target = join(dir, options.file);
  const urlPath = parts.join('/');

  const existing = await stat(target).catch(() => undefined);
  if (existing?.isFile() && (options.size === undefined || existing.size === options.size)) {
    if ((await hashFile(target)) === sha256)
      return { path: target, urlPath, bytes: existing.size, sha256, reused: true };
  }

  const temp = join(dir, `.${options.file}.${randomBytes(6).toString('hex')}.part`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    const verifier = new StreamVerifier(sha256, options.size, options.url);
    const progress = throttle(options.onProgress, options.size);
    const writer = batchedWriter(handle);
    for await (const chunk of fetchBody(options.url, {
      signal: options.signal,
      stallMs: options.stallMs,
      resumeAttempts: options.resumeAttempts,
      expectedSize: options.size,
      onResume: (info) => options.logger?.warn({ url: options.url, ...info }, 'stage download resumed'),
    })) {
      verifier.update(chunk);
      await writer.add(chunk);
      progress.update(verifier.bytes);
    }
    await writer.end();
    const verified = verifier.finish();
    progress.flush(verified.bytes);
    await handle.sync();
    await handle.close();
    await rename(temp, target);
    // The rename itself must survive a crash, not just the bytes.
    const dirHandle = await open(dir, 'r');
    await dirHandle.sync().finally(() => dirHandle.close());
    options.logger?.info({ path: target, bytes: verified.bytes }, 'package staged');
    return { path: target, urlPath, bytes: verified.bytes, sha256, reused: false };
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
};
