import '../polyfills.js';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../../core/log.js';
import { createOperations } from './api.js';
import { loadTimeoutErrorClass } from './errors.js';
import { Executions } from './executions.js';
import type { LambdaResolver } from './lambda.js';
import { createSfnHttpServer } from './server.js';
import { Registry } from './state-machines.js';
import type { ExecutionEndedListener } from './status-events.js';
import { TaskRegistry } from './tasks.js';

export { SfnError, type SfnErrorType } from './errors.js';
export type { LambdaContext, LambdaHandler, LambdaResolver } from './lambda.js';
export type { ExecutionEndedListener } from './status-events.js';

export interface StepFunctionsOptions {
  readonly host?: string;
  readonly port?: number;
  readonly region?: string;
  readonly accountId?: string;
  readonly lambdas?: LambdaResolver;
  readonly logger?: Logger;
  /** How long GetActivityTask waits for work before answering empty; AWS holds it 60 s. */
  readonly activityPollMs?: number;
  /** What an EventBridge rule on "Step Functions Execution Status Change" would get, per ended execution. */
  readonly onExecutionEnded?: ExecutionEndedListener;
}

export interface StepFunctionsServer {
  /** e.g. `http://127.0.0.1:43121`: give it to SFNClient as `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** Aborts running executions, answers pending long polls empty and stops listening. */
  close(): Promise<void>;
}

const AWS_POLL_MS = 60_000;

/** Starts the local Step Functions API (awsJson1_0) on a loopback port. */
export async function startStepFunctions(options: StepFunctionsOptions = {}): Promise<StepFunctionsServer> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const logger =
    options.logger ?? createLogger('stepfunctions', { level: process.env.GSM_LOG_LEVEL ?? 'warn' });
  await loadTimeoutErrorClass();

  const scope = { region, accountId };
  const registry = new Registry(scope);
  const tasks = new TaskRegistry();
  const executions = new Executions({
    scope,
    tasks,
    lambdas: options.lambdas,
    activityExists: (arn) => registry.hasActivity(arn),
    logger,
    ...(options.onExecutionEnded ? { onExecutionEnded: options.onExecutionEnded } : {}),
  });
  const operations = createOperations({
    scope,
    registry,
    executions,
    tasks,
    activityPollMs: options.activityPollMs ?? AWS_POLL_MS,
  });
  const server = createSfnHttpServer(operations, logger);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ endpoint }, 'step functions listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      executions.abortAll();
      tasks.shutdown();
      server.close(() => resolve());
      // Answered long polls leave keep-alive sockets behind; close would wait for them otherwise.
      setImmediate(() => server.closeAllConnections());
    });
    return closing;
  };

  return { endpoint, port, region, accountId, close };
}
