import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Release, rollbackExecutionName } from '../../core/model/index.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../test/helpers/dynamodb.js';
import {
  createHosts,
  DEMO_INSTANCE,
  type LoopbackServer,
  serveLoopback,
  stageDemoPackage,
  workflowApp,
} from '../../test/helpers/release-api.js';
import {
  type ActionWorkflowStack,
  type FakeRelay,
  startFakeRelay,
  startWorkflowStack,
} from '../../workflows/action.fixture.js';
import { releaseLambdas } from '../../workflows/release.fixture.js';
import { PLAN_ROLLBACK_FUNCTION, releaseDefinition } from '../../workflows/release.js';
import { handleExecutionEnded } from './settle.js';

/**
 * An operator stops a release's execution in the Step Functions console (StopExecution): the
 * workflow's Finalize never runs. The emulator's status-change event, handled as EventBridge
 * would hand it to functions/execution-ended, must still end the release and free its hosts,
 * or every later release on them is refused as busy.
 */
describe('an execution stopped by hand', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let relay: FakeRelay;
  let server: LoopbackServer;
  let key: string;
  let releasePlanRollback: (() => void) | undefined;
  let planRollbackHeld: Promise<void> | undefined;

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'execution-ended');
    await createHosts(db.store, ['s1', 's2', 's3'], 'stop', [DEMO_INSTANCE]);
    await stageDemoPackage(db.store);
    const real = releaseLambdas(db.store);
    stack = await startWorkflowStack({
      name: 'gsm-release',
      lambdas: async (name) => {
        const fn = await real(name);
        if (!fn) return undefined;
        return async (event, context) => {
          if (name === PLAN_ROLLBACK_FUNCTION) await planRollbackHeld;
          return fn(event, context);
        };
      },
      definition: (relayActivityArn) => releaseDefinition({ relayActivityArn }),
      onExecutionEnded: (event) => {
        void handleExecutionEnded({ store: db.store }, event);
      },
    });
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store });
    server = await serveLoopback(workflowApp(db.store, stack).fetch);
    key = (await db.store.apiKeys.create({ name: 'stop', role: 'operator' })).key;
  });
  afterAll(async () => {
    releasePlanRollback?.();
    await relay?.stop();
    await server?.close();
    await stack?.close();
    await db?.close();
  });

  const call = (path: string, body?: unknown) =>
    fetch(`${server.base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const until = async (what: string, id: string, done: (release: Release) => boolean): Promise<Release> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const release = await db.store.releases.get(id);
      if (done(release)) return release;
      if (Date.now() > deadline) throw new Error(`release ${id} never ${what}: ${release.state}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const create = async (hosts: string[], strategy: Record<string, unknown>) => {
    const res = await call('/v1/releases', {
      package: { game: 'demo', version: '1.1.0' },
      target: { hosts },
      strategy,
    });
    return { status: res.status, release: (await res.json()) as Release };
  };
  const stop = (executionArn: string) =>
    stack.sfn.send(new StopExecutionCommand({ executionArn, cause: 'stopped in the console' }));

  it('while a release waits for approval: it ends failed with why, and its hosts take the next release', async () => {
    const { release } = await create(['s1', 's2'], { canary: 1, approval: 'after-canary' });
    const waiting = await until('waited for approval', release.id, (r) => r.state === 'waiting_approval');

    await stop(waiting.executionArn as string);
    const ended = await until('ended', release.id, (r) => r.state === 'failed');

    expect(ended.reason).toContain('ended ABORTED');
    expect(ended.reason).toContain('stopped in the console');
    expect(await db.store.hostLocks.holder('s1')).toBeUndefined();
    expect(await db.store.hostLocks.holder('s2')).toBeUndefined();
    const next = await create(['s1', 's2'], { canary: 1 });
    expect(next.status).toBe(201);
    expect((await until('succeeded', next.release.id, (r) => r.state === 'succeeded')).state).toBe(
      'succeeded',
    );
  });

  it('while a rollback runs: the request is withdrawn with why, and the release keeps its state', async () => {
    const { release } = await create(['s3'], { canary: 1 });
    await until('succeeded', release.id, (r) => r.state === 'succeeded');
    planRollbackHeld = new Promise((resolve) => {
      releasePlanRollback = resolve;
    });

    const asked = await call(`/v1/releases/${release.id}/rollback`, {});
    expect(asked.status).toBe(200);
    await stop(
      `${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${rollbackExecutionName(release.id, 1)}`,
    );
    const kept = await until('withdrew its rollback', release.id, (r) => r.rollbackRequestedAt === undefined);
    releasePlanRollback?.();

    expect(kept.state).toBe('succeeded');
    expect(kept.rollbackFailure).toContain('ended ABORTED');
    expect(await db.store.hostLocks.holder('s3')).toBeUndefined();
    expect((await create(['s3'], { canary: 1 })).status).toBe(201);
  });
});
