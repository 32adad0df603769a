import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createLogger, type Logger } from '../../core/log.js';
import type { S3BucketEvent } from '../../core/model/events.js';
import { createEventDelivery } from './events.js';
import type { LocalS3, S3Credentials, StartS3Options } from './server.js';

/**
 * The local S3 in a worker thread of its own. In `gsm dev` and the benches, the process that runs
 * the S3 also runs the API, the task handlers and the relay; on one thread, an upload or a
 * download of gigabytes took turns with the intake task hashing that very object and with every
 * API request. In its worker, s3rver has its own event loop and heap; its events come back here
 * and reach `onEvent` on the caller's thread, in the same order and with the same guarantees.
 */

/** What the worker is started with (everything of StartS3Options that crosses a thread). */
export interface WorkerInput {
  readonly options: Omit<StartS3Options, 'onEvent' | 'logger'>;
  readonly logLevel: string;
}

export type ToWorker = { readonly type: 'drain'; readonly id: number } | { readonly type: 'close' };

export type FromWorker =
  | {
      readonly type: 'ready';
      readonly endpoint: string;
      readonly directory: string;
      readonly region: string;
      readonly credentials: S3Credentials;
    }
  | { readonly type: 'failed'; readonly message: string; readonly code?: string }
  | { readonly type: 'event'; readonly event: S3BucketEvent }
  | { readonly type: 'drained'; readonly id: number }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'closed' };

type Ready = Extract<FromWorker, { type: 'ready' }>;

// Runs first in the worker. From source (tests, `node --import tsx`) the worker module is
// TypeScript, and on Node 20 a worker gets no ESM loader hooks (neither inherited nor its own
// `--import`), so tsx's require hook compiles it; from dist/ it is plain JS.
const BOOT = `
const { workerData } = require('node:worker_threads');
if (workerData.tsx) {
  require(workerData.tsx).register();
  require(workerData.entry);
} else {
  import(workerData.entry).catch((error) => setImmediate(() => { throw error; }));
}
`;

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** A log line of the worker, written through the caller's logger. */
const relayLog = (logger: Logger, line: string): void => {
  const { level, msg, ...fields } = JSON.parse(line) as { level: string; msg?: string };
  if (LEVELS.has(level)) logger[level as 'info'](fields, msg);
};

const workerEntry = (): { entry: string; tsx?: string } => {
  const here = fileURLToPath(import.meta.url);
  if (extname(here) !== '.ts') return { entry: new URL('./worker.js', import.meta.url).href };
  return {
    entry: join(dirname(here), 'worker.ts'),
    tsx: createRequire(import.meta.url).resolve('tsx/cjs/api'),
  };
};

export const startS3 = async (options: StartS3Options): Promise<LocalS3> => {
  const { onEvent, logger: given, ...crossing } = options;
  const logger = given ?? createLogger('local-s3');
  const input: WorkerInput = { options: crossing, logLevel: logger.level };
  const worker = new Worker(BOOT, { eval: true, execArgv: [], workerData: { ...workerEntry(), ...input } });
  const tell = (message: ToWorker) => worker.postMessage(message);

  const deliveries = createEventDelivery(onEvent, logger.child({ component: 's3' }));
  const drains = new Map<number, () => void>();
  let nextDrain = 0;
  let gone = false;
  let closed: (() => void) | undefined;
  let started: { resolve: (ready: Ready) => void; reject: (error: Error) => void } | undefined;

  // Whatever ends the worker, nobody waits forever for an answer it can no longer give.
  const ended = (error?: Error) => {
    if (gone) return;
    gone = true;
    started?.reject(error ?? new Error('the local S3 worker exited before it was ready'));
    for (const resolve of drains.values()) resolve();
    drains.clear();
    closed?.();
  };

  worker.on('message', (message: FromWorker) => {
    switch (message.type) {
      case 'ready':
        started?.resolve(message);
        break;
      case 'failed':
        started?.reject(Object.assign(new Error(message.message), { code: message.code }));
        break;
      case 'event':
        deliveries.enqueue(message.event.detail.object.key, async () => message.event);
        break;
      case 'drained':
        drains.get(message.id)?.();
        drains.delete(message.id);
        break;
      case 'log':
        relayLog(logger, message.line);
        break;
      case 'closed':
        closed?.();
        break;
    }
  });
  worker.on('error', (error) => {
    logger.error({ err: error, component: 's3' }, 'the local S3 worker failed');
    ended(error);
  });
  worker.on('exit', () => ended());

  const ready = await new Promise<Ready>((resolve, reject) => {
    started = { resolve, reject };
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  started = undefined;

  // Events the worker raised before a drain request reach this thread before its answer
  // (one message port, in order); then this side's deliveries finish them.
  const drainEvents = async (): Promise<void> => {
    if (!gone) {
      const id = nextDrain++;
      await new Promise<void>((resolve) => {
        drains.set(id, resolve);
        tell({ type: 'drain', id });
      });
    }
    await deliveries.drain();
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (!gone) {
        await new Promise<void>((resolve) => {
          closed = resolve;
          tell({ type: 'close' });
        });
      }
      await deliveries.drain();
      await worker.terminate();
    })();
    return closing;
  };

  return {
    endpoint: ready.endpoint,
    bucket: options.bucket,
    region: ready.region,
    directory: ready.directory,
    credentials: ready.credentials,
    drainEvents,
    close,
  };
};
