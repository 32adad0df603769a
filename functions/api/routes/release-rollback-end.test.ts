import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Release, rollbackExecutionName } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import {
  createHosts,
  DEMO_INSTANCE,
  type LoopbackServer,
  serveLoopback,
  stageDemoPackage,
  workflowApp,
} from '../../../test/helpers/release-api.js';
import {
  type ActionWorkflowStack,
  type FakeRelay,
  startFakeRelay,
  startWorkflowStack,
} from '../../../workflows/action.fixture.js';
import { releaseLambdas } from '../../../workflows/release.fixture.js';
import {
  FINALIZE_RELEASE_FUNCTION,
  PLAN_ROLLBACK_FUNCTION,
  releaseDefinition,
} from '../../../workflows/release.js';
import type { ReleaseDetail } from './releases.js';

const HOSTS = ['r1', 'r2', 'r3', 'r4'];

/**
 * A later rollback (of an ended release), or a release, that cannot finish must still end: the request is
 * withdrawn with the reason, the hosts are free, the event stream ends. Faults are injected
 * into the real task functions the emulator runs; the relay stands in for agents.
 */
describe('a release or its later rollback that cannot finish', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let relay: FakeRelay;
  let server: LoopbackServer;
  let base: string;
  let key: string;
  const faults: {
    planRollback: boolean;
    finalizeRollback: boolean;
    finalizeRelease: boolean;
    holdPlanRollback?: Promise<void>;
  } = { planRollback: false, finalizeRollback: false, finalizeRelease: false };
  /** Runs right after the API took a release's host locks (an interleaving, not a stand-in). */
  let afterLocksTaken: ((releaseId: string) => Promise<void>) | undefined;

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'api-release-rollback-end');
    await createHosts(db.store, HOSTS, 'rb', [DEMO_INSTANCE]);
    await stageDemoPackage(db.store);
    const real = releaseLambdas(db.store);
    stack = await startWorkflowStack({
      name: 'gsm-release',
      lambdas: async (name) => {
        const fn = await real(name);
        if (!fn) return undefined;
        return async (event, context) => {
          const input = event as { mode?: string; finalizeError?: unknown };
          if (name === PLAN_ROLLBACK_FUNCTION && faults.planRollback) {
            throw new Error('the store answered 500');
          }
          if (name === PLAN_ROLLBACK_FUNCTION) await faults.holdPlanRollback;
          const rollbackFinalize = input.mode === 'rollback' && input.finalizeError === undefined;
          if (name === FINALIZE_RELEASE_FUNCTION && faults.finalizeRollback && rollbackFinalize) {
            throw new Error('finalize broke');
          }
          const releaseFinalize = input.mode !== 'rollback' && input.finalizeError === undefined;
          if (name === FINALIZE_RELEASE_FUNCTION && faults.finalizeRelease && releaseFinalize) {
            throw new Error('finalize broke mid-release');
          }
          return fn(event, context);
        };
      },
      definition: (relayActivityArn) =>
        releaseDefinition({ relayActivityArn, taskRetry: { intervalSec: 1, maxAttempts: 1 } }),
    });
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store });
    const apiStore: Store = {
      ...db.store,
      hostLocks: {
        ...db.store.hostLocks,
        acquire: async (releaseId, hostIds) => {
          await db.store.hostLocks.acquire(releaseId, hostIds);
          await afterLocksTaken?.(releaseId);
        },
      },
    };
    const app = workflowApp(apiStore, stack);
    server = await serveLoopback(app.fetch);
    base = server.base;
    key = (await db.store.apiKeys.create({ name: 'rb', role: 'operator' })).key;
  });
  afterEach(() => {
    faults.planRollback = false;
    faults.finalizeRollback = false;
    faults.finalizeRelease = false;
    faults.holdPlanRollback = undefined;
    afterLocksTaken = undefined;
  });
  afterAll(async () => {
    await relay?.stop();
    await server?.close();
    await stack?.close();
    await db?.close();
  });

  const call = (path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}) =>
    fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  const detail = async (id: string) => (await (await call(`/v1/releases/${id}`)).json()) as ReleaseDetail;
  const succeededRelease = async (hosts: string[]): Promise<string> => {
    const res = await call('/v1/releases', {
      method: 'POST',
      body: { package: { game: 'demo', version: '1.1.0' }, target: { hosts }, strategy: { canary: 1 } },
    });
    const id = ((await res.json()) as Release).id;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const release = await detail(id);
      if (release.state === 'succeeded') return id;
      if (Date.now() > deadline) throw new Error(`release ${id} still ${release.state}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  /** The whole event stream (bounded): the names of its events and the last one's data. */
  const streamToEnd = async (id: string) => {
    const res = await call(`/v1/releases/${id}/events`, { signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    const events = text
      .split('\n\n')
      .map((block) => block.split('\n'))
      .filter((lines) => lines.some((l) => l.startsWith('event: ')));
    const name = (lines: string[]) => lines.find((l) => l.startsWith('event: '))?.slice(7);
    const last = events.at(-1) ?? [];
    return {
      names: events.map(name),
      last: JSON.parse(last.find((l) => l.startsWith('data: '))?.slice(6) ?? '{}') as { state?: string },
    };
  };
  const executionArnOf = (id: string, attempt: number) =>
    `${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${rollbackExecutionName(id, attempt)}`;
  const executionStatus = async (id: string, attempt: number) => {
    const executionArn = executionArnOf(id, attempt);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const out = await stack.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (out.status !== 'RUNNING') return out.status;
      if (Date.now() > deadline) throw new Error(`still running: ${executionArn}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('whose plan fails: the release keeps its state with the reason, its stream ends, and a new rollback runs', async () => {
    const id = await succeededRelease(['r1', 'r2']);
    faults.planRollback = true;

    const res = await call(`/v1/releases/${id}/rollback`, { method: 'POST', body: {} });
    const stream = await streamToEnd(id);

    expect(res.status).toBe(200);
    expect(((await res.json()) as Release).rollbackRequestedAt).toBeDefined();
    expect(stream.names.at(-1)).toBe('end');
    expect(stream.last).toEqual({ state: 'succeeded' });
    expect(await executionStatus(id, 1)).toBe('FAILED');
    const kept = await detail(id);
    expect(kept.state).toBe('succeeded');
    expect(kept.rollbackRequestedAt).toBeUndefined();
    expect(kept.rollbackFailure).toContain('the rollback failed');
    expect(kept.rollbackFailure).toContain('the store answered 500');
    expect(await db.store.hostLocks.holder('r1')).toBeUndefined();

    faults.planRollback = false;
    const again = await call(`/v1/releases/${id}/rollback`, { method: 'POST', body: {} });

    expect(again.status).toBe(200);
    expect(await executionStatus(id, 2)).toBe('SUCCEEDED');
    const back = await detail(id);
    expect(back).toMatchObject({ state: 'rolled_back', versions: { '1.0.0': 2 } });
    expect(back.rollbackFailure).toBeUndefined();
  });

  it('whose Finalize fails: the request is withdrawn with the reason and the hosts are free', async () => {
    const id = await succeededRelease(['r3']);
    faults.finalizeRollback = true;

    const res = await call(`/v1/releases/${id}/rollback`, { method: 'POST', body: {} });
    const status = await executionStatus(id, 1);
    faults.finalizeRollback = false;

    expect(res.status).toBe(200);
    expect(status).toBe('FAILED');
    const kept = await detail(id);
    expect(kept).toMatchObject({ state: 'succeeded' });
    expect(kept.rollbackRequestedAt).toBeUndefined();
    expect(kept.rollbackFailure).toContain('could not be finalized');
    expect(kept.rollbackFailure).toContain('finalize broke');
    expect(await db.store.hostLocks.holder('r3')).toBeUndefined();
  });

  it('whose execution was stopped by hand: a new request finds it gone, says so, and runs', async () => {
    const id = await succeededRelease(['r2']);
    let letGo: () => void = () => undefined;
    faults.holdPlanRollback = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const first = await call(`/v1/releases/${id}/rollback`, { method: 'POST', body: {} });
    const refused = await call(`/v1/releases/${id}/rollback`, { method: 'POST', body: {} });
    await stack.sfn.send(new StopExecutionCommand({ executionArn: executionArnOf(id, 1) }));
    faults.holdPlanRollback = undefined;
    letGo();

    const again = await call(`/v1/releases/${id}/rollback`, { method: 'POST', body: {} });

    expect(first.status).toBe(200);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toContain('is already being rolled back');
    expect(again.status).toBe(200);
    expect(await executionStatus(id, 2)).toBe('SUCCEEDED');
    const back = await detail(id);
    expect(back.state).toBe('rolled_back');
    expect(back.rollbackRequestedAt).toBeDefined();
  });

  it('a release whose Finalize fails ends failed with the reason, its hosts free', async () => {
    faults.finalizeRelease = true;
    const res = await call('/v1/releases', {
      method: 'POST',
      body: { package: { game: 'demo', version: '1.1.0' }, target: { hosts: ['r1'] } },
    });
    const id = ((await res.json()) as Release).id;

    const stream = await streamToEnd(id);

    expect(stream.last).toEqual({ state: 'failed' });
    const ended = await detail(id);
    expect(ended.reason).toContain('the release could not be finalized');
    expect(ended.reason).toContain('finalize broke mid-release');
    expect(await db.store.hostLocks.holder('r1')).toBeUndefined();
  });

  it('holds its hosts from the moment it takes their locks: a new release on them is refused', async () => {
    const id = await succeededRelease(['r4']);
    let competitor: Response | undefined;
    afterLocksTaken = async (releaseId) => {
      if (releaseId !== id || competitor) return;
      competitor = await call('/v1/releases', {
        method: 'POST',
        body: { package: { game: 'demo', version: '1.1.0' }, target: { hosts: ['r4'] } },
      });
    };

    const res = await call(`/v1/releases/${id}/rollback`, { method: 'POST', body: {} });
    afterLocksTaken = undefined;

    expect(res.status).toBe(200);
    expect(competitor?.status).toBe(409);
    expect(((await competitor?.json()) as { error?: string } | undefined)?.error).toContain(
      `host 'r4' is busy in release '${id}'`,
    );
    expect(await executionStatus(id, 1)).toBe('SUCCEEDED');
    expect((await detail(id)).state).toBe('rolled_back');
  });
});
