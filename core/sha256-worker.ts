import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * SHA-256 of a byte stream, computed on a worker thread so the thread reading the stream (an
 * HTTP body, file parts being uploaded) keeps reading while the previous bytes are hashed: two
 * cores instead of one taking turns. Chunks are gathered into 1 MiB batches whose memory is
 * handed to the worker and back (transferred, not copied); at most MAX_QUEUED bytes wait for it, so a
 * slow hash holds the reader back instead of growing memory. Where no worker can start, the
 * same digest is computed inline.
 */

const BATCH = 1024 * 1024;
const MAX_QUEUED = 8 * BATCH;

// Plain CommonJS evaluated by the worker: no file to bundle next to a Lambda's single module.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (batch) => {
  if (batch === null) {
    parentPort.postMessage({ digest: hash.digest('hex') });
    return;
  }
  hash.update(new Uint8Array(batch));
  parentPort.postMessage({ done: batch }, [batch]);
});
`;

export interface Sha256Sink {
  /** Resolves when the chunk is taken (copied into a batch); waits while the worker is behind. */
  update(chunk: Uint8Array): Promise<void>;
  /** The hex digest of everything given, and the byte count. Ends the worker. */
  digest(): Promise<{ sha256: string; size: number }>;
  /** Ends the worker without a digest (the caller failed). */
  abort(): void;
}

const inlineSink = (): Sha256Sink => {
  const hash = createHash('sha256');
  let size = 0;
  return {
    update: async (chunk) => {
      hash.update(chunk);
      size += chunk.length;
    },
    digest: async () => ({ sha256: hash.digest('hex'), size }),
    abort: () => {},
  };
};

export const sha256Sink = (options: { inline?: boolean } = {}): Sha256Sink => {
  if (options.inline) return inlineSink();
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true });
  } catch {
    return inlineSink();
  }
  let failure: Error | undefined;
  let queued = 0;
  let size = 0;
  // Batches come back once hashed and are filled again: no allocation per MiB, and memory
  // stays at MAX_QUEUED plus one batch instead of waiting for the worker's garbage collector.
  const free: ArrayBuffer[] = [];
  let memory: ArrayBuffer = new ArrayBuffer(BATCH);
  let batch = Buffer.from(memory);
  let filled = 0;
  let wake: (() => void) | undefined;
  let finished: ((digest: string) => void) | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    wake?.();
    finished?.('');
  };
  worker.on('message', (message: { done?: ArrayBuffer; digest?: string }) => {
    if (message.digest !== undefined) {
      finished?.(message.digest);
      return;
    }
    if (!message.done) return;
    queued -= message.done.byteLength;
    if (message.done.byteLength === BATCH) free.push(message.done);
    wake?.();
  });
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (finished || failure) return;
    fail(new Error(`the hashing worker exited (${code})`));
  });

  const send = async () => {
    if (filled === 0) return;
    while (queued >= MAX_QUEUED && !failure) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
    // A full batch is handed over as is; only the last, shorter one is copied to its length.
    const message = filled === BATCH ? memory : memory.slice(0, filled);
    queued += filled;
    worker.postMessage(message, [message]);
    memory = free.pop() ?? new ArrayBuffer(BATCH);
    batch = Buffer.from(memory);
    filled = 0;
  };

  return {
    async update(chunk) {
      if (failure) throw failure;
      size += chunk.length;
      for (let offset = 0; offset < chunk.length; ) {
        const n = Math.min(BATCH - filled, chunk.length - offset);
        batch.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === BATCH) await send();
      }
    },
    async digest() {
      try {
        await send();
        const sha256 = await new Promise<string>((resolve) => {
          finished = resolve;
          worker.postMessage(null);
        });
        if (failure) throw failure;
        return { sha256, size };
      } finally {
        void worker.terminate();
      }
    },
    abort() {
      void worker.terminate();
    },
  };
};

/** The SHA-256 and size of a whole stream, hashed off the reading thread. */
export const sha256OfStream = async (
  source: AsyncIterable<Uint8Array>,
  options: { inline?: boolean } = {},
): Promise<{ sha256: string; size: number }> => {
  const sink = sha256Sink(options);
  try {
    for await (const chunk of source) await sink.update(chunk);
  } catch (error) {
    sink.abort();
    throw error;
  }
  return sink.digest();
};
