import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, DownloadError } from './errors.js';

export interface FetchBodyOptions {
  readonly signal?: AbortSignal;
  /** No byte for this long ends the attempt (and fails over): a stalled origin. */
  readonly stallMs?: number;
  /** Reconnects with `Range` after a drop mid-body, before the origin counts as failed. */
  readonly resumeAttempts?: number;
  /** When known, a `Content-Length` that disagrees fails before any byte is read. */
  readonly expectedSize?: number;
  /** Told about resumes, so the caller can log them. */
  readonly onResume?: (info: {
    readonly offset: number;
    readonly attempt: number;
    readonly reason: string;
  }) => void;
}

export const DEFAULT_STALL_MS = 30_000;
export const DEFAULT_RESUME_ATTEMPTS = 3;

/**
 * The origin answered a resume with the whole body of a different entity (200 to an
 * `If-Range`): what was already fed downstream no longer matches, so the caller must start
 * this origin over from byte 0 with a fresh pipeline.
 */
export class RestartFromZero extends Error {
  readonly origin: string;

  constructor(origin: string) {
    super(`origin ${origin} changed the file during a resume; starting over`);
    this.origin = origin;
  }
}

class Stalled extends Error {}

const isAbort = (error: unknown, signal: AbortSignal | undefined): boolean =>
  signal?.aborted === true || (error as Error)?.name === 'AbortError';

/** Strong ETags and Last-Modified are the validators `If-Range` accepts; weak ETags are not. */
const validatorOf = (res: IncomingMessage): string | undefined => {
  const etag = res.headers.etag;
  if (etag && !etag.startsWith('W/')) return etag;
  return res.headers['last-modified'];
};

const open = (url: URL, headers: Record<string, string>, signal: AbortSignal | undefined, stallMs: number) =>
  new Promise<IncomingMessage>((resolve, reject) => {
    const get = url.protocol === 'https:' ? httpsGet : httpGet;
    const req = get(url, { headers, signal }, resolve);
    req.on('error', reject);
    // Until the headers arrive; the body has its own stall watch below.
    req.setTimeout(stallMs, () => req.destroy(new Stalled(`no response within ${stallMs} ms`)));
    req.once('response', () => req.setTimeout(0));
  });

const contentLength = (res: IncomingMessage): number | undefined => {
  const raw = res.headers['content-length'];
  return raw === undefined ? undefined : Number(raw);
};

/** `bytes START-END/TOTAL` → START and TOTAL (TOTAL may be `*`). */
const parseContentRange = (raw: string | undefined): { start: number; total?: number } | undefined => {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(raw ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
};

/**
 * The body of one URL as a stream of chunks, pulled one at a time (the consumer's pace is the
 * backpressure: memory stays at a socket buffer). A connection that drops mid-body is resumed
 * from the same origin with `Range: bytes=N-` and `If-Range`; a 206 continues, a 200 for the
 * same entity is read from 0 with the first N bytes dropped, a 200 for another entity throws
 * `RestartFromZero`. Refused connections, HTTP errors, stalls and spent resumes throw
 * `DownloadError` (the caller fails over); a fired signal throws `AbortedError`.
 */
export async function* fetchBody(url: string, options: FetchBodyOptions = {}): AsyncGenerator<Buffer> {
  const {
    signal,
    stallMs = DEFAULT_STALL_MS,
    resumeAttempts = DEFAULT_RESUME_ATTEMPTS,
    expectedSize,
  } = options;
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new DownloadError(url, `unsupported URL scheme ${target.protocol}`);
  }
  let offset = 0;
  let total: number | undefined;
  let validator: string | undefined;
  let resumes = 0;
  const retry = async (reason: string, cause: unknown): Promise<void> => {
    if (resumes >= resumeAttempts) {
      throw new DownloadError(
        url,
        `connection lost after ${offset} bytes, ${resumes} resumes spent: ${reason}`,
        'E_DOWNLOAD',
        { cause },
      );
    }
    resumes += 1;
    options.onResume?.({ offset, attempt: resumes, reason });
    await sleep(100 * resumes, undefined, { signal }).catch(() => {
      throw new AbortedError();
    });
  };

  for (;;) {
    if (signal?.aborted) throw new AbortedError();
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      if (validator) headers['if-range'] = validator;
    }
    let res: IncomingMessage;
    try {
      res = await open(target, headers, signal, stallMs);
    } catch (error) {
      if (isAbort(error, signal)) throw new AbortedError({ cause: error });
      if (offset === 0)
        throw new DownloadError(url, `cannot connect: ${(error as Error).message}`, 'E_DOWNLOAD', {
          cause: error,
        });
      await retry(`reconnect failed: ${(error as Error).message}`, error);
      continue;
    }

    let skip = 0;
    const status = res.statusCode ?? 0;
    if (offset === 0) {
      if (status !== 200) {
        res.destroy();
        throw new DownloadError(url, `HTTP ${status}`);
      }
      validator = validatorOf(res);
      total = contentLength(res);
      if (expectedSize !== undefined && total !== undefined && total !== expectedSize) {
        res.destroy();
        throw new DownloadError(url, `serves ${total} bytes, expected ${expectedSize}`, 'E_SIZE_MISMATCH');
      }
    } else if (status === 206) {
      const range = parseContentRange(res.headers['content-range']);
      if (
        !range ||
        range.start !== offset ||
        (total !== undefined && range.total !== undefined && range.total !== total)
      ) {
        res.destroy();
        throw new DownloadError(url, `bad Content-Range on resume: ${res.headers['content-range']}`);
      }
    } else if (status === 200) {
      if (!validator || validatorOf(res) !== validator) {
        res.destroy();
        throw new RestartFromZero(url);
      }
      skip = offset;
    } else {
      res.destroy();
      throw new DownloadError(url, `HTTP ${status} on resume at byte ${offset}`);
    }

    let waiting = false;
    const stall = setTimeout(() => {
      if (waiting) res.destroy(new Stalled(`no data for ${stallMs} ms`));
    }, stallMs);
    try {
      const body = res[Symbol.asyncIterator]();
      for (;;) {
        waiting = true;
        stall.refresh();
        const next = await body.next();
        waiting = false;
        if (next.done) break;
        let chunk = next.value as Buffer;
        if (skip > 0) {
          const drop = Math.min(skip, chunk.length);
          skip -= drop;
          chunk = chunk.subarray(drop);
          if (chunk.length === 0) continue;
        }
        offset += chunk.length;
        yield chunk;
      }
      if (total !== undefined && offset < total) throw new Error(`body ended at ${offset} of ${total} bytes`);
      return;
    } catch (error) {
      if (isAbort(error, signal)) throw new AbortedError({ cause: error });
      if (error instanceof Stalled)
        throw new DownloadError(url, `stalled: ${error.message}`, 'E_DOWNLOAD', { cause: error });
      await retry((error as Error).message, error);
    } finally {
      clearTimeout(stall);
      res.destroy();
    }
  }
}

/** Calls `report` at most every `intervalMs`, and always for the last value on `flush`. */
export const throttle = (
  report: ((bytes: number, total: number | undefined) => void) | undefined,
  total: number | undefined,
  intervalMs = 250,
): { update(bytes: number): void; flush(bytes: number): void } => {
  let last = 0;
  return {
    update(bytes) {
      if (!report) return;
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      report(bytes, total);
    },
    flush(bytes) {
      report?.(bytes, total);
    },
  };
};
