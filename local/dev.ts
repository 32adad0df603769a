import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import './polyfills.js';
import type { ReleaseDetailView } from '../cli/client.js';
import { createAwsClients, createDynamoDbClient } from '../core/aws.js';
import { ConfigError, ConflictError, UnauthorizedError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import type { ExecutionStatusChangeEvent, Package } from '../core/model/index.js';
import { createStore, ensureTable } from '../core/store/index.js';
import { createPackageObjects } from '../core/store/objects.js';
import type { Store } from '../core/store/types.js';
import { createApp } from '../functions/api/app.js';
import { deriveAgentSecret } from '../protocol/index.js';
import { type Relay, relayConfig, startRelay } from '../relay/index.js';
import { createRelayStore } from '../relay/store-clients.js';
import { type DemoFleet, type InstallReport, startDemoFleet } from './demo/index.js';
import { runDemoRelease, stageDemoNext } from './demo/release.js';
import { startDynalite, startDynamoDbLocal } from './dynamodb.js';
import { startS3 } from './s3.js';
import { seedDemo } from './seed.js';
import { startStepFunctions } from './stepfunctions/index.js';
import { createLocalStateMachines, localLambdaHandlers } from './workflows.js';

export interface DevOptions {
  /** First of four consecutive ports (API, DynamoDB, S3, Step Functions); 0 picks free ones. */
  readonly port?: number;
  /** Keep DynamoDB and S3 state here across restarts; in memory / a temp dir otherwise. */
  readonly data?: string;
  readonly dynamodb?: 'dynalite' | 'amazon';
  /** Use this admin key instead of generating one (GSM_API_KEY). */
  readonly apiKey?: string;
  readonly demo?: boolean;
  /** Where `.gsm/dev.json` goes; the working directory by default. */
  readonly cwd?: string;
  readonly logLevel?: string;
  /** Called once the demo fleet's pre-install has ended (demo only). */
  readonly onDemoInstalled?: (report: InstallReport) => void;
  /** Demo hosts whose demo game fails from 1.1.0 on (tagged fault=health); default demo-07. */
  readonly faultyHosts?: readonly string[];
  /**
   * After the pre-install, push demo 1.1.0 and release it to group=demo (`gsm dev` does; off
   * by default here, so tests get an idle fleet). Its progress lines go to `onDemoRelease`.
   */
  readonly demoRelease?: boolean;
  /**
   * Without the demo release: still push and stage demo 1.1.0 after the pre-install, so a
   * release of it can be started by hand (`gsm dev --no-demo-release`). Off by default.
   */
  readonly stageDemoNext?: boolean;
  readonly onDemoRelease?: (line: string) => void;
}

/** What `.gsm/dev.json` holds: enough for any AWS SDK, the AWS CLI or a script to use the stack. */
export interface DevEndpoints {
  readonly api: string;
  readonly apiKey: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly dynamodb: string;
  readonly s3: string;
  readonly stepfunctions: string;
  readonly bucket: string;
  readonly table: string;
  readonly dynamodbEngine: 'dynalite' | 'amazon';
  readonly pid: number;
}

export interface DevStack {
  readonly endpoints: DevEndpoints;
  readonly store: Store;
  readonly logger: Logger;
  readonly relay: Relay;
  /** The demo hosts, origin and legacy host; absent with `demo: false`. */
  readonly fleet?: DemoFleet;
  /** The demo release of 1.1.0, settled when it ended (or failed to run); absent without one. */
  readonly demoRelease?: Promise<DemoReleaseOutcome>;
  /** With `stageDemoNext` and no demo release: demo 1.1.0 staged (or why not). */
  readonly demoStaged?: Promise<DemoStageOutcome>;
  close(): Promise<void>;
}

export type DemoStageOutcome =
  | { readonly ok: true; readonly package: Package }
  | { readonly ok: false; readonly error: string };

export type DemoReleaseOutcome =
  | { readonly ok: true; readonly release: ReleaseDetailView }
  | { readonly ok: false; readonly error: string };

export const DEV_REGION = 'us-east-1';
export const DEV_TABLE = 'gsm';
export const DEV_BUCKET = 'gsm-packages';
/** s3rver accepts only its own key pair; the other emulators accept any. */
export const DEV_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export const DEFAULT_DEV_PORT = 8420;

const portAt = (base: number, offset: number): number => (base === 0 ? 0 : base + offset);

/**
 * Starts the whole local stack in this process and returns once every part answers.
 * Each part is stopped in reverse order by `close()`, also when a later part fails to start.
 */
export const startDevStack = async (options: DevOptions = {}): Promise<DevStack> => {
  // Logs go to stderr so that stdout carries only what gsm dev prints for people.
  const level = options.logLevel ?? process.env.GSM_LOG_LEVEL ?? 'warn';
  const logger = createLogger('gsm-dev', {
    level,
    destination: process.stderr,
  });
  const engine = options.dynamodb ?? 'dynalite';
  const data = options.data ? resolve(options.data) : undefined;
  const basePort = options.port ?? DEFAULT_DEV_PORT;
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.warn({ err }, 'stop failed'));
    stops.length = 0;
  };

  try {
    const dynamo =
      engine === 'amazon'
        ? await startDynamoDbLocal({
            port: portAt(basePort, 1),
            dataDir: data && join(data, 'dynamodb-local'),
          })
        : await startDynalite({ port: portAt(basePort, 1), dataDir: data && join(data, 'dynalite') });
    stops.push(() => dynamo.close());

    let onObjectEvent: (event: unknown) => Promise<void> = async () => {};
    const s3 = await startS3({
      bucket: DEV_BUCKET,
      port: portAt(basePort, 2),
      directory: data && join(data, 's3'),
      onEvent: (event) => onObjectEvent(event),
      logger,
    });
    stops.push(() => s3.close());

    // As an EventBridge rule would in AWS: executions that end unfinished go to functions/execution-ended.
    let onExecutionEnded: (event: ExecutionStatusChangeEvent) => Promise<unknown> = async () => {};
    const sfn = await startStepFunctions({
      port: portAt(basePort, 3),
      region: DEV_REGION,
      lambdas: localLambdaHandlers,
      logger: logger.child({ component: 'stepfunctions' }),
      onExecutionEnded: (event) => {
        onExecutionEnded(event).catch((error: unknown) =>
          logger.error(
            { err: error, executionArn: event.detail.executionArn },
            'execution-ended handler failed',
          ),
        );
      },
    });
    stops.push(() => sfn.close());

    // The handler modules read their configuration from the environment exactly as in
    // Lambda, so the local stack gives them the same variables AWS would.
    Object.assign(process.env, {
      AWS_REGION: DEV_REGION,
      AWS_ACCESS_KEY_ID: DEV_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEV_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SFN: sfn.endpoint,
      GSM_S3_FORCE_PATH_STYLE: 'true',
      GSM_TABLE: DEV_TABLE,
      GSM_BUCKET: DEV_BUCKET,
      // The task handlers log to stdout at `info` by default, which would bury the banner.
      GSM_LOG_LEVEL: level,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });

    const clients = createAwsClients({
      region: DEV_REGION,
      endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint, stepfunctions: sfn.endpoint },
      credentials: DEV_CREDENTIALS,
      s3ForcePathStyle: true,
    });
    // The job writes of the relay (and of everything else here) as `gsm relay` sends them (relay/main.ts).
    const updates = createDynamoDbClient(
      { region: DEV_REGION, endpoints: { dynamodb: dynamo.endpoint }, credentials: DEV_CREDENTIALS },
      { cacheMiddleware: true },
    );
    stops.push(async () => {
      clients.dynamodb.destroy();
      updates.destroy();
      clients.s3.destroy();
      clients.sfn.destroy();
    });
    await ensureTable(clients.dynamodb, DEV_TABLE);
    const store = createStore({ documents: clients.documents, table: DEV_TABLE, updates });

    // The trigger reads GSM_STATE_MACHINE_INTAKE when its module loads: the machines come first.
    // The API starts the action and release machines; the relay polls their activity.
    const machines = await createLocalStateMachines(clients.sfn, sfn.accountId);
    const { action: actionMachine, release: releaseMachine } = machines;
    Object.assign(process.env, {
      GSM_STATE_MACHINE_INTAKE: machines.intake,
      GSM_STATE_MACHINE_ACTION: actionMachine,
      GSM_STATE_MACHINE_RELEASE: releaseMachine,
    });
    const trigger = await import('../functions/trigger/handler.js');
    onObjectEvent = async (event) => {
      await trigger.handler(event as Parameters<typeof trigger.handler>[0]);
    };
    const executionEnded = await import('../functions/execution-ended/handler.js');
    onExecutionEnded = (event) => executionEnded.handler(event);

    const apiKey = await ensureAdminKey(store, options.apiKey);
    const masterSecret = await devMasterSecret(data);
    const app = createApp({
      agentSecretFor: (hostId) => deriveAgentSecret(masterSecret, hostId),
      store,
      objects: createPackageObjects({ s3: clients.s3, bucket: DEV_BUCKET }),
      logger: logger.child({ component: 'api' }),
      workflows: { sfn: clients.sfn, stateMachines: { action: actionMachine, release: releaseMachine } },
    });
    const server = await listen(app.fetch, portAt(basePort, 0));
    stops.push(() => new Promise<void>((done) => server.close(() => done())));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // The relay's monitor sweeps every 5 s so that `GET /v1/hosts` shows the demo fleet's
    // online state, versions and players soon after they change. Its store is its own, bounded
    // as `gsm relay`'s is, so a fan-out's writes queue in the relay and not ahead of the API.
    const relayOptions = relayConfig({
      relayId: 'gsm-dev-relay',
      activityArn: machines.relayActivityArn,
      masterSecret,
      heartbeatMs: 5000,
      connectTimeoutMs: 3000,
      shutdownGraceMs: 2000,
      monitor: { intervalMs: 5000, probeTimeoutMs: 2000, missesBeforeOffline: 2 },
    });
    const relayStore = createRelayStore(
      { region: DEV_REGION, endpoints: { dynamodb: dynamo.endpoint }, credentials: DEV_CREDENTIALS },
      { table: DEV_TABLE, maxRequests: relayOptions.dynamoDbMaxRequests },
    );
    stops.push(async () => relayStore.destroy());
    const relay = await startRelay(relayOptions, {
      store: relayStore.store,
      sfn: clients.sfn,
      logger: logger.child({ component: 'relay' }),
    });
    stops.push(() => relay.close());

    let fleet: DemoFleet | undefined;
    let demoRelease: Promise<DemoReleaseOutcome> | undefined;
    let demoStaged: Promise<DemoStageOutcome> | undefined;
    if (options.demo ?? true) {
      await seedDemo(store);
      const fleetDir = data ? join(data, 'demo') : await mkdtemp(join(tmpdir(), 'gsm-dev-demo-'));
      if (!data) stops.push(() => rm(fleetDir, { recursive: true, force: true }));
      fleet = await startDemoFleet({
        store,
        workflow: { sfn: clients.sfn, stateMachineArn: actionMachine },
        dataDir: fleetDir,
        logger: logger.child({ component: 'demo' }),
        masterSecret,
        onInstalled: options.onDemoInstalled,
        ...(options.faultyHosts ? { faultyHosts: options.faultyHosts } : {}),
      });
      stops.push(() => fleet?.close() ?? Promise.resolve());
      if (!options.demoRelease && options.stageDemoNext) {
        const aborted = new AbortController();
        demoStaged = fleet.installed
          .then(() =>
            stageDemoNext({
              api,
              apiKey,
              workDir: fleetDir,
              print: options.onDemoRelease ?? (() => {}),
              signal: aborted.signal,
            }),
          )
          .then(
            (pkg): DemoStageOutcome => ({ ok: true, package: pkg }),
            (error: unknown): DemoStageOutcome => ({
              ok: false,
              error: String((error as Error)?.message ?? error),
            }),
          );
        stops.push(async () => {
          aborted.abort(new Error('gsm dev is stopping'));
          await demoStaged;
        });
      }
      if (options.demoRelease) {
        const aborted = new AbortController();
        demoRelease = fleet.installed
          .then(() =>
            runDemoRelease({
              api,
              apiKey,
              workDir: fleetDir,
              print: options.onDemoRelease ?? (() => {}),
              signal: aborted.signal,
            }),
          )
          .then(
            (release): DemoReleaseOutcome => ({ ok: true, release }),
            (error: unknown): DemoReleaseOutcome => ({
              ok: false,
              error: String((error as Error)?.message ?? error),
            }),
          );
        // Before the fleet stops: a release followed against stopped agents would only fail.
        stops.push(async () => {
          aborted.abort(new Error('gsm dev is stopping'));
          await demoRelease;
        });
      }
    }

    const endpoints: DevEndpoints = {
      api,
      apiKey,
      region: DEV_REGION,
      credentials: { ...DEV_CREDENTIALS },
      dynamodb: dynamo.endpoint,
      s3: s3.endpoint,
      stepfunctions: sfn.endpoint,
      bucket: DEV_BUCKET,
      table: DEV_TABLE,
      dynamodbEngine: engine,
      pid: process.pid,
    };
    const dir = join(options.cwd ?? process.cwd(), '.gsm');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'dev.json'), `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
    return {
      endpoints,
      store,
      logger,
      relay,
      ...(fleet ? { fleet } : {}),
      ...(demoRelease ? { demoRelease } : {}),
      ...(demoStaged ? { demoStaged } : {}),
      close,
    };
  } catch (error) {
    await close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError(
        `a port of ${basePort}-${basePort + 3} is in use (another gsm dev?); pass --port N, or --port 0 for free ones`,
        { cause: error },
      );
    }
    throw error;
  }
};

/**
 * The secret every demo agent's and the relay's per-host secrets derive from. New each run;
 * with `--data` it is kept there (mode 600) so the agents' state stays usable. It is never
 * written to dev.json: nothing but this process needs it.
 */
const devMasterSecret = async (data: string | undefined): Promise<string> => {
  if (!data) return randomBytes(32).toString('base64url');
  const file = join(data, 'agent-master-secret');
  const kept = await readFile(file, 'utf8').catch(() => '');
  if (kept.trim().length >= 16) return kept.trim();
  const secret = randomBytes(32).toString('base64url');
  await mkdir(data, { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
};

const ensureAdminKey = async (store: Store, given: string | undefined): Promise<string> => {
  if (!given) return (await store.apiKeys.create({ name: 'dev-admin', role: 'admin' })).key;
  try {
    await store.apiKeys.verify(given);
    return given;
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  try {
    return (await store.apiKeys.create({ name: 'dev-admin', role: 'admin', key: given })).key;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    throw new ConfigError('GSM_API_KEY names a key this stack has revoked; unset it to get a new key', {
      cause: error,
    });
  }
};

const listen = (fetch: Parameters<typeof serve>[0]['fetch'], port: number) =>
  new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const server = serve({ fetch, port, hostname: '127.0.0.1' }, () => resolveServer(server));
    server.once('error', reject);
  });
