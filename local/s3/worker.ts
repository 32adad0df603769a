import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { type LocalS3, startS3InThisThread } from './server.js';
import type { FromWorker, ToWorker, WorkerInput } from './thread.js';

/**
 * The worker thread `startS3` (thread.ts) starts: the S3 server of server.ts, its events and
 * log lines posted to the thread that started it.
 */

const port = parentPort;
if (!port) throw new Error('local/s3/worker.ts runs as a worker thread: use startS3 from local/s3.ts');
const input = workerData as WorkerInput;
const say = (message: FromWorker) => port.postMessage(message);

// Lines go to the caller's logger, which decides where they are written.
const logger = pino(
  {
    level: input.logLevel,
    base: undefined,
    timestamp: false,
    formatters: { level: (label) => ({ level: label }) },
  },
  { write: (line: string) => say({ type: 'log', line }) },
);

const serve = (s3: LocalS3): void => {
  say({
    type: 'ready',
    endpoint: s3.endpoint,
    directory: s3.directory,
    region: s3.region,
    credentials: s3.credentials,
  });
  port.on('message', (message: ToWorker) => {
    if (message.type === 'drain') {
      void s3.drainEvents().then(() => say({ type: 'drained', id: message.id }));
      return;
    }
    void s3
      .close()
      .catch((error: unknown) => logger.error({ err: error }, 'local S3 did not close cleanly'))
      .then(() => {
        say({ type: 'closed' });
        port.close();
      });
  });
};

// No top-level await: from source this module is compiled to CommonJS (see thread.ts).
void startS3InThisThread({
  ...input.options,
  logger,
  onEvent: (event) => say({ type: 'event', event }),
}).then(serve, (error: NodeJS.ErrnoException) => {
  // A port in use, a folder that cannot be made: the caller's startS3 rejects with it.
  say({ type: 'failed', message: error.message, ...(error.code ? { code: error.code } : {}) });
  port.close();
});
