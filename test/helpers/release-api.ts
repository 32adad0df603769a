import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { createLogger } from '../../core/log.js';
import type { Package } from '../../core/model/index.js';
import type { Store } from '../../core/store/types.js';
import { createApp } from '../../functions/api/app.js';
import type { ActionWorkflowStack } from '../../workflows/action.fixture.js';

/**
 * Set-up shared by the tests of the release and action routes and their CLI commands: the real
 * app over a real store and a workflow on the Step Functions emulator, optionally on a loopback port.
 */

type AppDeps = Parameters<typeof createApp>[0];

/** A package of game `demo` that went through verification and staging, ready to release. */
export const stageDemoPackage = async (
  store: Store,
  options: { readonly version?: string; readonly sha256?: string } = {},
): Promise<Package> => {
  const version = options.version ?? '1.1.0';
  const pkg = await store.packages.create({
    game: 'demo',
    version,
    fileName: 'demo.tar.gz',
    size: 10,
    s3Key: `packages/demo/${version}/demo.tar.gz`,
    state: 'verifying',
  });
  await store.packages.transition(pkg.id, 'verified', { sha256: options.sha256 ?? 'c'.repeat(64) });
  await store.packages.transition(pkg.id, 'staging');
  return store.packages.transition(pkg.id, 'staged', {
    origins: [{ id: 'o1', url: 'http://127.0.0.1:9/demo.tar.gz', verified: true }],
  });
};

/** The app with only what the workflow routes use: no bucket, one state machine of the emulator. */
export const workflowApp = (
  store: Store,
  stack: ActionWorkflowStack,
  machine: 'release' | 'action' = 'release',
): ReturnType<typeof createApp> =>
  createApp({
    store,
    logger: createLogger('test', { level: 'silent' }),
    workflows: { sfn: stack.sfn, stateMachines: { [machine]: stack.stateMachineArn } },
  } as Partial<AppDeps> as AppDeps);

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  close(): Promise<void>;
}

/** Serves `fetch` on a free loopback port; `onRequest` sees every request first. */
export const serveLoopback = async (
  fetch: (request: Request) => Response | Promise<Response>,
  onRequest?: (request: Request) => void,
): Promise<LoopbackServer> => {
  const server = await new Promise<ServerType>((ready) => {
    const s = serve(
      {
        fetch: (request) => {
          onRequest?.(request);
          return fetch(request);
        },
        port: 0,
        hostname: '127.0.0.1',
      },
      () => ready(s),
    );
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
};

/** An operator and a viewer API key. */
export const operatorAndViewerKeys = async (store: Store): Promise<{ operator: string; viewer: string }> => {
  const [operator, viewer] = await Promise.all(
    (['operator', 'viewer'] as const).map((role) => store.apiKeys.create({ name: role, role })),
  );
  return { operator: operator!.key, viewer: viewer!.key };
};

/** Hosts with these ids at 127.0.0.1 tagged `group=<group>`, each running `instances` if given. */
export const createHosts = async (
  store: Store,
  ids: readonly string[],
  group: string,
  instances?: Parameters<Store['hosts']['create']>[0]['instances'],
): Promise<void> => {
  for (const id of ids) {
    await store.hosts.create({
      id,
      address: '127.0.0.1',
      tags: { group },
      ...(instances ? { instances } : {}),
    });
  }
};

export interface AppCall {
  readonly method?: string;
  /** The bearer key; `null` sends none, undefined the default. */
  readonly key?: string | null;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/**
 * Requests to the app in process, as the holder of `defaultKey()` unless a call names another key.
 * Both are getters: test files create them in `beforeAll`, after this is set up.
 */
export const appCaller =
  (app: () => ReturnType<typeof createApp>, defaultKey: () => string) =>
  (path: string, init: AppCall = {}): Promise<Response> => {
    const headers: Record<string, string> = { ...init.headers };
    const key = init.key === undefined ? defaultKey() : init.key;
    if (key) headers.authorization = `Bearer ${key}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    return Promise.resolve(
      app().request(`http://localhost${path}`, { method: init.method ?? 'GET', headers, body }),
    );
  };

/** The instance every host of the release operation tests runs. */
export const DEMO_INSTANCE = { name: 'demo', game: 'demo', port: 27960, version: '1.0.0' } as const;
