import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256OfStream, sha256Sink } from '../core/sha256-worker.js';
import { type ApiClient, type PackageView, putPart, type UploadView } from './client.js';
import { ApiError, UserError } from './errors.js';
import type { Progress } from './output.js';

/**
 * `gsm package push`, without the printing. The file is read once, in order: each part is
 * hashed as it is read and then PUT to its presigned URL while the next parts are read, with
 * at most `concurrency` PUTs in flight. Part buffers are recycled, so memory stays at
 * (concurrency + 1) parts whatever the file size. On a second run the parts S3 already holds
 * (with the right size) are read and hashed but not sent again; the SHA-256 checked by intake
 * catches a part that came from a different file.
 */

export interface PushOptions {
  readonly file: string;
  readonly game: string;
  readonly version: string;
  readonly concurrency: number;
  readonly wait: boolean;
  /** Test hook: stop (as if killed) once this many parts were sent in this run. */
  readonly abortAfterParts?: number;
  /** How long to wait for verification before giving up, in ms. */
  readonly waitTimeoutMs?: number;
}

export interface PushUi {
  progress(label: string, total: number): Progress;
  info(text: string): void;
}

export interface PushResult {
  readonly package: PackageView;
  readonly sha256: string;
  readonly partsSent: number;
  readonly partsResumed: number;
}

const PART_ATTEMPTS = 3;
const POLL_MS = 300;
const TERMINAL = new Set(['verified', 'staging', 'staged', 'rejected']);

/** Begins the upload, or picks up the one a previous run left. */
const beginOrResume = async (
  api: ApiClient,
  input: { game: string; version: string; fileName: string; size: number },
  ui: PushUi,
): Promise<{ pkg: PackageView; upload: UploadView | undefined }> => {
  try {
    const created = await api.packages.create(input);
    return { pkg: created.package, upload: created.upload };
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'E_CONFLICT') throw error;
  }
  const pkg = await api.packages.get(`${input.game}@${input.version}`);
  if (pkg.fileName !== input.fileName || pkg.size !== input.size) {
    throw new UserError(
      `package '${pkg.id}' exists with ${pkg.fileName} (${pkg.size} bytes), not ${input.fileName} (${input.size} bytes)`,
      { hint: `push another version, or \`gsm package delete ${pkg.id}\` first` },
    );
  }
  if (pkg.state !== 'uploading') {
    ui.info(`package '${pkg.id}' was already pushed (${pkg.state})`);
    return { pkg, upload: undefined };
  }
  const upload = await api.packages.upload(pkg.id);
  ui.info(`resuming '${pkg.id}': ${upload.uploaded.length} of ${upload.partCount} parts are stored`);
  return { pkg, upload };
};

/** Hands out part buffers; `take` waits until one is free. */
const bufferPool = (count: number, size: number) => {
  type Part = Buffer<ArrayBuffer>;
  // Node allocates these over a plain ArrayBuffer; the types only say ArrayBufferLike.
  const free = Array.from({ length: count }, () => Buffer.allocUnsafeSlow(size) as Part);
  const waiting: ((buffer: Part) => void)[] = [];
  return {
    take: (): Promise<Part> => {
      const buffer = free.pop();
      return buffer ? Promise.resolve(buffer) : new Promise((resolve) => waiting.push(resolve));
    },
    give: (buffer: Part) => {
      const next = waiting.shift();
      if (next) next(buffer);
      else free.push(buffer);
    },
  };
};

const transfer = async (
  api: ApiClient,
  pkg: PackageView,
  upload: UploadView,
  options: PushOptions,
  progress: Progress,
): Promise<{ sha256: string; parts: { partNumber: number; etag: string }[]; sent: number }> => {
  const { partSize, partCount, size } = upload;
  const etags = new Map(upload.uploaded.map((p) => [p.partNumber, p.etag]));
  const urls = new Map(upload.urls.map((u) => [u.partNumber, u.url]));
  const urlFor = async (partNumber: number, fresh = false): Promise<string> => {
    if (fresh || !urls.has(partNumber)) {
      const window = await api.packages.upload(pkg.id, { from: String(partNumber) });
      for (const u of window.urls) urls.set(u.partNumber, u.url);
    }
    const url = urls.get(partNumber);
    if (!url) throw new UserError(`the API gave no URL for part ${partNumber}`);
    return url;
  };
  const send = async (partNumber: number, body: Buffer): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await putPart(await urlFor(partNumber, attempt > 1), body);
      } catch (error) {
        if (attempt >= PART_ATTEMPTS) throw error;
        await sleep(200 * attempt);
      }
    }
  };

  // Hashed on a worker thread: the part PUTs in flight keep being written to their sockets
  // while the next part is hashed.
  const hash = sha256Sink();
  const pool = bufferPool(options.concurrency + 1, partSize);
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let sent = 0;
  const file = await open(options.file, 'r');
  try {
    for (let n = 1; n <= partCount && failure === undefined; n++) {
      const length = Math.min(partSize, size - (n - 1) * partSize);
      const buffer = await pool.take();
      const { bytesRead } = await file.read(buffer, 0, length, (n - 1) * partSize);
      if (bytesRead !== length) throw new UserError(`${options.file} changed while it was being pushed`);
      const body = buffer.subarray(0, length);
      await hash.update(body);
      if (etags.has(n)) {
        pool.give(buffer);
        progress.advance(length);
        continue;
      }
      if (options.abortAfterParts !== undefined && sent >= options.abortAfterParts) {
        failure = new UserError(`stopped after ${sent} parts (GSM_TEST_ABORT_AFTER_PARTS)`);
        pool.give(buffer);
        break;
      }
      sent++;
      const task: Promise<void> = send(n, body)
        .then((etag) => {
          etags.set(n, etag);
          progress.advance(length);
        })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => {
          pool.give(buffer);
          inFlight.delete(task);
        });
      inFlight.add(task);
    }
    await Promise.all(inFlight);
  } catch (error) {
    hash.abort();
    throw error;
  } finally {
    await file.close();
  }
  if (failure !== undefined) {
    hash.abort();
    throw failure;
  }
  const parts = [...etags]
    .map(([partNumber, etag]) => ({ partNumber, etag }))
    .sort((a, b) => a.partNumber - b.partNumber);
  return { sha256: (await hash.digest()).sha256, parts, sent };
};

const hashFile = async (path: string): Promise<string> => {
  const file = await open(path, 'r');
  try {
    return (await sha256OfStream(file.createReadStream({ highWaterMark: 4 << 20 }))).sha256;
  } finally {
    await file.close();
  }
};

/** Polls until intake has decided; a rejection is a UserError carrying the reason. */
export const waitForVerdict = async (api: ApiClient, id: string, timeoutMs: number): Promise<PackageView> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pkg = await api.packages.get(id);
    if (pkg.state === 'rejected') {
      throw new UserError(`package '${id}' was rejected: ${pkg.reason ?? 'no reason given'}`, {
        hint: `delete it (\`gsm package delete ${id}\`) and push again`,
      });
    }
    if (TERMINAL.has(pkg.state)) return pkg;
    if (Date.now() > deadline) {
      throw new UserError(`package '${id}' is still ${pkg.state} after ${Math.round(timeoutMs / 1000)} s`, {
        hint: `check later with \`gsm package show ${id}\``,
      });
    }
    await sleep(POLL_MS);
  }
};

export const pushPackage = async (api: ApiClient, options: PushOptions, ui: PushUi): Promise<PushResult> => {
  const info = await stat(options.file).catch((error: unknown) => {
    throw new UserError(`cannot read ${options.file}: ${(error as Error).message}`);
  });
  if (!info.isFile()) throw new UserError(`${options.file} is not a file`);
  const input = {
    game: options.game,
    version: options.version,
    fileName: basename(options.file),
    size: info.size,
  };
  const { pkg, upload } = await beginOrResume(api, input, ui);
  let sha256: string;
  let partsSent = 0;
  let partsResumed = 0;
  if (upload) {
    const progress = ui.progress(`pushing ${pkg.id}`, upload.size);
    let result: Awaited<ReturnType<typeof transfer>>;
    try {
      result = await transfer(api, pkg, upload, options, progress);
    } finally {
      progress.stop();
    }
    sha256 = result.sha256;
    partsSent = result.sent;
    partsResumed = upload.uploaded.length;
    await api.packages.complete(pkg.id, { sha256, parts: result.parts });
  } else {
    // Pushed before: only make sure it is this file.
    sha256 = await hashFile(options.file);
    if (pkg.sha256 && pkg.sha256 !== sha256) {
      throw new UserError(`package '${pkg.id}' exists with another SHA-256 (${pkg.sha256})`, {
        hint: `push another version, or \`gsm package delete ${pkg.id}\` first`,
      });
    }
  }
  const final = options.wait
    ? await waitForVerdict(api, pkg.id, options.waitTimeoutMs ?? 30 * 60_000)
    : await api.packages.get(pkg.id);
  return { package: final, sha256, partsSent, partsResumed };
};
