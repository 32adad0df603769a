import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Store } from '../../core/store/types.js';
import {
  type ActionWorkflowStack,
  type FakeRelay,
  type FakeRelayOptions,
  startActionWorkflow,
  startFakeRelay,
} from '../../workflows/action.fixture.js';
import { startReleaseWorkflow } from '../../workflows/release.fixture.js';
import { startTestDynamoDb, type TestDynamoDb } from './dynamodb.js';
import {
  type AppCall,
  appCaller,
  createHosts,
  type LoopbackServer,
  operatorAndViewerKeys,
  serveLoopback,
  stageDemoPackage,
  workflowApp,
} from './release-api.js';

export interface WorkflowApiOptions {
  /** Names the test's table. */
  readonly name: string;
  readonly machine: 'release' | 'action';
  /** Hosts at 127.0.0.1 tagged `group=<group>`. */
  readonly hosts: readonly string[];
  readonly group: string;
  /** Stages demo@1.1.0 (with this SHA-256, if given) before the workflow starts. */
  readonly stage?: { readonly sha256?: string };
  /** Further records the tests need, made before the workflow starts. */
  readonly setUp?: (store: Store) => Promise<void>;
  /** Also serves the app on a loopback port (for the CLI), recording each request. */
  readonly serve?: boolean;
}

/** What a test file uses; valid from its `beforeAll` on. */
export interface WorkflowApi {
  readonly db: TestDynamoDb;
  readonly store: Store;
  readonly stack: ActionWorkflowStack;
  readonly keys: { readonly operator: string; readonly viewer: string };
  /** `http://127.0.0.1:<port>` when served. */
  readonly base: string;
  /** Every request to the served app, `METHOD /path`. */
  readonly requests: string[];
  /** A request to the app in process, as the operator unless `init.key` says otherwise. */
  call(path: string, init?: AppCall): Promise<Response>;
  /** Starts the stand-in relay of this test (settling every job as `extra.decide` says); stopped after it. */
  useRelay(extra?: Partial<FakeRelayOptions>): FakeRelay;
}

/**
 * Registers the file's hooks: the real app over a real store on dynalite, the release or action
 * workflow on the Step Functions emulator, and a stand-in relay per test.
 */
export const useWorkflowApi = (options: WorkflowApiOptions): WorkflowApi => {
  let db: TestDynamoDb | undefined;
  let stack: ActionWorkflowStack | undefined;
  let app: ReturnType<typeof workflowApp> | undefined;
  let keys: WorkflowApi['keys'] | undefined;
  let server: LoopbackServer | undefined;
  let relay: FakeRelay | undefined;
  const requests: string[] = [];
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the workflow API is set up in beforeAll: use it in a test');
    return value;
  };

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', options.name);
    await createHosts(db.store, options.hosts, options.group);
    if (options.stage) await stageDemoPackage(db.store, options.stage);
    await options.setUp?.(db.store);
    stack =
      options.machine === 'release'
        ? await startReleaseWorkflow(db.store)
        : await startActionWorkflow(db.store);
    app = workflowApp(db.store, stack, options.machine);
    keys = await operatorAndViewerKeys(db.store);
    if (options.serve) {
      server = await serveLoopback(app.fetch, (req) =>
        requests.push(`${req.method} ${new URL(req.url).pathname}`),
      );
    }
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });
  afterAll(async () => {
    await server?.close();
    await stack?.close();
    await db?.close();
  });

  const call = appCaller(
    () => ready(app),
    () => ready(keys).operator,
  );
  return {
    get db() {
      return ready(db);
    },
    get store() {
      return ready(db).store;
    },
    get stack() {
      return ready(stack);
    },
    get keys() {
      return ready(keys);
    },
    get base() {
      return ready(server).base;
    },
    requests,
    call,
    useRelay: (extra = {}) => {
      const { sfn, activityArn } = ready(stack);
      relay = startFakeRelay({ sfn, activityArn, store: ready(db).store, ...extra });
      return relay;
    },
  };
};
