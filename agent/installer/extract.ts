import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { type DecoderProcess, type StartDecoderOptions, startBzip2Decoder } from '../process/decompress.js';
import { AbortedError, ArchiveError } from './errors.js';
import { DEFAULT_LIMITS, type ExtractLimits, type ExtractStats, TarExtractor } from './untar.js';

export { DEFAULT_LIMITS, type ExtractLimits, type ExtractStats } from './untar.js';

export type ArchiveFormat = 'tar' | 'gzip' | 'bzip2';

const SNIFF = 6;

/** By magic bytes, never by file name: an origin may name a file anything. */
export const detectFormat = (head: Buffer): ArchiveFormat => {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw new ArchiveError(
      'E_ARCHIVE_FORMAT',
      'xz archives are not supported (use .tar.gz, .tar.bz2 or .tar)',
    );
  }
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    throw new ArchiveError(
      'E_ARCHIVE_FORMAT',
      'zstd archives are not supported (use .tar.gz, .tar.bz2 or .tar)',
    );
  }
  if (head.toString('latin1', 0, 2) === 'PK') {
    throw new ArchiveError(
      'E_ARCHIVE_FORMAT',
      'zip archives are not supported (use .tar.gz, .tar.bz2 or .tar)',
    );
  }
  // Anything else must be a plain tar; the first header's checksum decides.
  return 'tar';
};

export interface ExtractOptions {
  readonly limits?: Partial<ExtractLimits>;
  /** Which bzip2 decoders to try, in order (default lbzip2, then bzip2). */
  readonly bzip2?: StartDecoderOptions;
}

/**
 * The extraction half of an install, fed the raw download chunk by chunk: sniffs the format,
 * inflates .gz in-process (zlib with 1 MiB chunks: 3× its default speed) or .bz2 through a
 * native decoder child, and untars into `root`. After a failure `write` keeps accepting (and
 * dropping) chunks so the caller can finish hashing and tell a bad package from a bad origin.
 */
export class ExtractSink {
  readonly #root: string;
  readonly #options: ExtractOptions;
  readonly #extractor: TarExtractor;
  #head: Buffer[] = [];
  #headBytes = 0;
  #input: Writable | undefined;
  #gunzip: Gunzip | undefined;
  #decoder: DecoderProcess | undefined;
  #waiters: (() => void)[] = [];
  #ended = false;
  format: ArchiveFormat | undefined;
  failure: Error | undefined;

  constructor(root: string, options: ExtractOptions = {}) {
    this.#root = root;
    this.#options = options;
    this.#extractor = new TarExtractor(this.#root, { ...DEFAULT_LIMITS, ...options.limits });
    this.#extractor.on('error', (error) => this.#fail(error));
    this.#extractor.on('eof', () => this.#onEof());
  }

  get stats(): ExtractStats {
    return this.#extractor.stats;
  }

  #fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.#gunzip?.destroy();
    void this.#decoder?.kill();
    if (!this.#extractor.destroyed) this.#extractor.destroy(error);
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** The tar is complete: whatever the compressed stream still holds is never inflated. */
  #onEof(): void {
    this.#ended = true;
    if (this.#gunzip) {
      this.#gunzip.unpipe(this.#extractor);
      this.#gunzip.destroy();
    }
    if (this.#decoder) {
      this.#decoder.stdout.unpipe(this.#extractor);
      void this.#decoder.kill();
    }
    // Unpiped, the decompressor will never end the extractor: end it here.
    if (!this.#extractor.writableEnded) this.#extractor.end();
    this.#wake();
  }

  async #start(): Promise<void> {
    const head = Buffer.concat(this.#head);
    this.#head = [];
    if (head.length === 0) throw new ArchiveError('E_ARCHIVE_FORMAT', 'the package is empty');
    const format = detectFormat(head);
    this.format = format;
    if (format === 'gzip') {
      const gunzip = createGunzip({ chunkSize: 1 << 20 });
      gunzip.on('error', (error) =>
        this.#fail(
          new ArchiveError('E_ARCHIVE_FORMAT', `gzip data is corrupt: ${error.message}`, undefined, {
            cause: error,
          }),
        ),
      );
      gunzip.pipe(this.#extractor);
      this.#gunzip = gunzip;
      this.#input = gunzip;
    } else if (format === 'bzip2') {
      const decoder = await startBzip2Decoder(this.#options.bzip2);
      if (!decoder) {
        throw new ArchiveError(
          'E_NO_BZIP2',
          'this host has no bzip2 decoder: install lbzip2 (or bzip2) for .tar.bz2 packages',
        );
      }
      decoder.exited.catch((error: Error) => {
        if (!this.#ended)
          this.#fail(new ArchiveError('E_ARCHIVE_FORMAT', `bzip2 data is corrupt: ${error.message}`));
      });
      decoder.stdin.on('error', () => {});
      decoder.stdout.pipe(this.#extractor);
      this.#decoder = decoder;
      this.#input = decoder.stdin;
    } else {
      this.#input = this.#extractor;
    }
    await this.#push(head);
  }

  async #push(chunk: Buffer): Promise<void> {
    const input = this.#input;
    if (!input || this.failure || this.#ended) return;
    if (input.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        input.off('drain', done);
        resolve();
      };
      input.on('drain', done);
      this.#waiters.push(done);
    });
  }

  /** Feeds one chunk of the download; resolves when the pipeline can take more. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure || this.#ended) return;
    if (this.#input) return this.#push(chunk);
    this.#head.push(chunk);
    this.#headBytes += chunk.length;
    if (this.#headBytes < SNIFF) return;
    try {
      await this.#start();
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  /** The download is complete: waits until every entry is on disk; throws the first failure. */
  async finish(): Promise<ExtractStats> {
    if (!this.#input && !this.failure) {
      try {
        await this.#start();
      } catch (error) {
        this.#fail(error as Error);
      }
    }
    const extractor = this.#extractor;
    if (!this.failure) {
      const done = once(extractor, 'finish');
      done.catch(() => {});
      if (this.#ended || this.#input === extractor) {
        if (!extractor.writableEnded) extractor.end();
      } else this.#input?.end();
      await Promise.race([done, once(extractor, 'close')]).catch(() => {});
      if (this.#decoder && !this.#ended) await this.#decoder.exited.catch(() => {});
    }
    if (this.failure) {
      await this.#teardown();
      throw this.failure;
    }
    return extractor.stats;
  }

  /** Stops everything and waits until nothing more can be written under the root. */
  async abort(reason: Error = new AbortedError()): Promise<void> {
    this.#fail(reason);
    await this.#teardown();
  }

  async #teardown(): Promise<void> {
    this.#gunzip?.destroy();
    await this.#decoder?.kill();
    const extractor = this.#extractor;
    if (!extractor.destroyed) extractor.destroy();
    if (!extractor.closed) await once(extractor, 'close').catch(() => {});
    await extractor.writer.stop();
  }
}
