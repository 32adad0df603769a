import { type FileHandle, open } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';

/**
 * An object's bytes for GetObject: byte ranges of one or more files (an object file, or the parts
 * of a multipart object), read in 1 MiB chunks.
 *
 * Piped into a response (what Koa does with a stream body) it writes from a small pool of buffers
 * it reuses once each write has reached the socket. Allocating a fresh 1 MiB buffer per read, as
 * fs streams do, made V8 run a full mark-compact every ~40 ms for the external memory (measured
 * here: 37 % of the S3 thread's time in GC while serving a 1 GiB object, 1.5 s against 0.67 s
 * for a bare http server). Read any other way it is a plain stream of fresh buffers.
 */

export interface FileSegment {
  path: string;
  /** First and last byte, inclusive. */
  start: number;
  end: number;
}

const CHUNK = 1024 * 1024;
/** Writes in flight at once, each holding one pooled buffer. */
const POOL = 4;

export class ObjectStream extends Readable {
  private readonly segments: FileSegment[];
  private segment = 0;
  private position: number;
  private file: FileHandle | undefined;

  constructor(segments: FileSegment[]) {
    super({ highWaterMark: CHUNK });
    this.segments = segments.filter((s) => s.end >= s.start);
    this.position = this.segments[0]?.start ?? 0;
  }

  /** Opens the first file now, so a missing object fails before any answer is sent. */
  async ready(): Promise<this> {
    const first = this.segments[0];
    if (first) this.file = await open(first.path, 'r');
    return this;
  }

  /** Reads the next bytes into `buffer`; 0 at the end. */
  private async readInto(buffer: Buffer): Promise<number> {
    for (;;) {
      const current = this.segments[this.segment];
      if (!current) return 0;
      this.file ??= await open(current.path, 'r');
      const wanted = Math.min(buffer.length, current.end - this.position + 1);
      const { bytesRead } = await this.file.read(buffer, 0, wanted, this.position);
      if (bytesRead === 0) throw new Error(`${current.path} ended before byte ${current.end}`);
      this.position += bytesRead;
      if (this.position > current.end) {
        await this.closeFile();
        this.segment++;
        this.position = this.segments[this.segment]?.start ?? 0;
      }
      return bytesRead;
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  override _read(): void {
    const buffer = Buffer.allocUnsafe(CHUNK);
    this.readInto(buffer).then(
      (n) => this.push(n === 0 ? null : buffer.subarray(0, n)),
      (error: Error) => this.destroy(error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeFile().then(
      () => callback(error),
      () => callback(error),
    );
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (this.readableFlowing !== null || options?.end === false) return super.pipe(destination, options);
    void this.writePooled(destination as unknown as Writable);
    return destination;
  }

  private async writePooled(destination: Writable): Promise<void> {
    const free: Buffer[] = Array.from({ length: POOL }, () => Buffer.allocUnsafeSlow(CHUNK));
    let wake: (() => void) | undefined;
    let failed: Error | undefined;
    const release = (buffer: Buffer) => (error?: Error | null) => {
      if (error) failed ??= error;
      free.push(buffer);
      wake?.();
    };
    const stop = () => wake?.();
    destination.once('close', stop);
    try {
      for (;;) {
        while (free.length === 0 && !failed && !this.destroyed && !destination.destroyed) {
          await new Promise<void>((resolve) => (wake = resolve));
        }
        if (failed || this.destroyed || destination.destroyed) return;
        const buffer = free.pop() as Buffer;
        const n = await this.readInto(buffer);
        if (n === 0) {
          destination.end();
          return;
        }
        destination.write(buffer.subarray(0, n), release(buffer));
      }
    } catch (error) {
      // A file that vanished or shrank mid-answer: the response cannot be finished honestly.
      // The error goes to the response; this stream, which nobody reads, just ends.
      destination.destroy(error as Error);
      this.destroy();
    } finally {
      destination.off('close', stop);
      await this.closeFile();
    }
  }
}
