import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import type { StartDecoderOptions } from '../process/decompress.js';
import { fetchBody, RestartFromZero, throttle } from './download.js';
import {
  AbortedError,
  AllOriginsFailedError,
  DownloadError,
  HashMismatchError,
  InstallerError,
  type OriginFailure,
} from './errors.js';
import { type ExtractLimits, ExtractSink } from './extract.js';
import { checkVersion, current, readMeta, releaseDir, releasesDir, writeMeta } from './releases.js';
import { normalizeSha256, StreamVerifier } from './verify.js';

export interface InstallOptions {
  /** Origins in order of preference; the next one is tried when one fails. */
  readonly urls: readonly string[];
  readonly sha256: string;
  /** Bytes of the package file, when known: checked against Content-Length and the download. */
  readonly size?: number;
  readonly version: string;
  readonly instanceDir: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (bytes: number, total: number | undefined) => void;
  readonly limits?: Partial<ExtractLimits>;
  readonly logger?: Logger;
  readonly stallMs?: number;
  readonly resumeAttempts?: number;
  readonly bzip2?: StartDecoderOptions;
}

export interface InstallResult {
  readonly version: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly origin: string;
  /** True when this exact package was already installed under this version. */
  readonly reused: boolean;
  readonly files: number;
}

/** The origin, not the package, was at fault: another origin may serve it right. */
const isOriginFault = (error: unknown): boolean =>
  error instanceof DownloadError || error instanceof HashMismatchError;

interface Attempt {
  readonly staging: string;
  readonly bytes: number;
  readonly files: number;
}

const attempt = async (
  url: string,
  sha256: string,
  staging: string,
  options: InstallOptions,
): Promise<Attempt> => {
  const sink = new ExtractSink(staging, { limits: options.limits, bzip2: options.bzip2 });
  const verifier = new StreamVerifier(sha256, options.size, url);
  const progress = throttle(options.onProgress, options.size);
  // A cancel must not wait for a paused pipeline to drain.
  const onAbort = () => void sink.abort(new AbortedError());
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const body = fetchBody(url, {
      signal: options.signal,
      stallMs: options.stallMs,
      resumeAttempts: options.resumeAttempts,
      expectedSize: options.size,
      onResume: (info) =>
        options.logger?.warn({ origin: url, ...info }, 'download dropped; resuming with Range'),
    });
    for await (const chunk of body) {
      verifier.update(chunk);
      progress.update(verifier.bytes);
      await sink.write(chunk);
    }
    if (options.signal?.aborted) throw new AbortedError();
    // The hash decides first: a bad archive from a bad origin is the origin's fault.
    const note = sink.failure ? `the archive was also unreadable: ${sink.failure.message}` : '';
    const verified = verifier.finish(note);
    progress.flush(verified.bytes);
    const stats = await sink.finish();
    return { staging, bytes: verified.bytes, files: stats.files };
  } catch (error) {
    await sink.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
};

/** Moves a verified staging folder to `releases/<version>`, replacing a stale copy there. */
const publish = async (instanceDir: string, version: string, staging: string): Promise<string> => {
  const target = releaseDir(instanceDir, version);
  const trash = join(releasesDir(instanceDir), `.trash-${version}-${randomBytes(4).toString('hex')}`);
  let replaced = false;
  try {
    await rename(target, trash);
    replaced = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rename(staging, target);
  if (replaced) await rm(trash, { recursive: true, force: true });
  return target;
};

/** Staging folders of this version and trash left by an agent that died mid-install. */
const removeLeftovers = async (instanceDir: string, version: string): Promise<void> => {
  const dir = releasesDir(instanceDir);
  for (const name of await readdir(dir)) {
    if (name.startsWith(`.staging-${version}-`) || name.startsWith('.trash-')) {
      await rm(join(dir, name), { recursive: true, force: true });
    }
  }
};

/**
 * Downloads, verifies and extracts one package into `releases/<version>/` of an instance,
 * trying each origin in turn. Never touches `current` or the folder it points to: the switch
 * is a separate step. On any failure the staging folder is gone and nothing else changed.
 * Throws the origin's own error when there was one origin, `E_ALL_ORIGINS_FAILED` (with every
 * origin's error) when there were several, and an archive error at once when the package
 * itself (verified by its hash) is unsafe, too large or unreadable.
 */
export const installPackage = async (options: InstallOptions): Promise<InstallResult> => {
  const { urls, version, instanceDir, logger } = options;
  checkVersion(version);
  const sha256 = normalizeSha256(options.sha256);
  if (urls.length === 0) throw new InstallerError('E_INVALID_ARGUMENT', 'no origin URL to install from');
  if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
    throw new InstallerError('E_INVALID_ARGUMENT', `not a usable size: ${options.size}`);
  }

  const existing = await readMeta(instanceDir, version);
  const path = releaseDir(instanceDir, version);
  if (existing?.sha256 === sha256 && (await stat(path).catch(() => undefined))?.isDirectory()) {
    return { version, path, bytes: existing.bytes, sha256, origin: existing.origin, reused: true, files: 0 };
  }
  if ((await current(instanceDir)) === version) {
    throw new InstallerError(
      'E_RELEASE',
      `version ${version} is running with another build; install the new build under a new version`,
    );
  }

  await mkdir(releasesDir(instanceDir), { recursive: true });
  await removeLeftovers(instanceDir, version);
  const failures: OriginFailure[] = [];
  for (const url of urls) {
    let restarts = 0;
    for (;;) {
      if (options.signal?.aborted) throw new AbortedError();
      const staging = await mkdtemp(join(releasesDir(instanceDir), `.staging-${version}-`));
      try {
        const done = await attempt(url, sha256, staging, options);
        const published = await publish(instanceDir, version, done.staging);
        await writeMeta(instanceDir, {
          version,
          sha256,
          bytes: done.bytes,
          origin: url,
          installedAt: new Date().toISOString(),
        });
        logger?.info({ version, origin: url, bytes: done.bytes, files: done.files }, 'package installed');
        return {
          version,
          path: published,
          bytes: done.bytes,
          sha256,
          origin: url,
          reused: false,
          files: done.files,
        };
      } catch (error) {
        await rm(staging, { recursive: true, force: true });
        if (error instanceof RestartFromZero && restarts < 1) {
          restarts += 1;
          logger?.warn({ origin: url }, error.message);
          continue;
        }
        if (error instanceof RestartFromZero) {
          failures.push({
            origin: url,
            error: new DownloadError(url, 'the file kept changing during the download'),
          });
          break;
        }
        if (!isOriginFault(error)) throw error;
        logger?.warn({ origin: url, err: error }, 'origin failed; trying the next one');
        failures.push({ origin: url, error: error as Error });
        break;
      }
    }
  }
  if (failures.length === 1 && failures[0]) throw failures[0].error;
  throw new AllOriginsFailedError(failures);
};
