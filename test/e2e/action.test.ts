/**
 * Actions end to end, all real but in one process: dynalite, the local Step Functions API
 * running workflows/action.ts with its real task functions, the API, the relay (`startRelay`)
 * and real `gsm agent` code on loopback ports. Only the CLI is left out (it has its own tests).
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import { createApp } from '../../functions/api/app.js';
import type { ActionDetail } from '../../functions/api/routes/actions.js';
import { type Relay, relayConfig, startRelay } from '../../relay/index.js';
import { type ActionWorkflowStack, startActionWorkflow } from '../../workflows/action.fixture.js';
import { startTestDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.js';
import { MASTER_SECRET, type RealAgent, startRealAgent } from '../helpers/relay-agents.js';

type AppDeps = Parameters<typeof createApp>[0];

/** A loopback port nothing listens on: an agent that is down. */
const deadPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
};

describe('actions end to end: API → workflow → relay → agents', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let relay: Relay;
  let app: ReturnType<typeof createApp>;
  let operatorKey: string;
  const agents: RealAgent[] = [];
  const GAME_HOSTS = ['game-1', 'game-2', 'game-3'];

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'e2e-action');
    stack = await startActionWorkflow(db.store);
    for (const [i, id] of GAME_HOSTS.entries()) {
      const agent = await startRealAgent(id, { gamePort: 29100 + i });
      agents.push(agent);
      await db.store.hosts.create({ id, address: '127.0.0.1', port: agent.port, tags: { group: 'e2e' } });
    }
    // Sorts first, so with one host at a time it is the first job dispatched.
    await db.store.hosts.create({
      id: 'a-down',
      address: '127.0.0.1',
      port: await deadPort(),
      tags: { group: 'flaky' },
    });
    for (const id of GAME_HOSTS) await db.store.hosts.update(id, { tags: { group: 'e2e', flaky: 'maybe' } });
    await db.store.hosts.update('a-down', { tags: { group: 'down', flaky: 'maybe' } });

    relay = await startRelay(
      relayConfig({
        relayId: 'relay-e2e',
        activityArn: stack.activityArn,
        masterSecret: MASTER_SECRET,
        heartbeatMs: 500,
        connectTimeoutMs: 1000,
        shutdownGraceMs: 1000,
        monitor: { enabled: false },
      }),
      { store: db.store, sfn: stack.sfn, logger: createLogger('relay', { level: 'silent' }) },
    );
    app = createApp({
      store: db.store,
      logger: createLogger('api', { level: 'silent' }),
      workflows: { sfn: stack.sfn, stateMachines: { action: stack.stateMachineArn } },
    } as Partial<AppDeps> as AppDeps);
    operatorKey = (await db.store.apiKeys.create({ name: 'ops', role: 'operator' })).key;
  });
  afterAll(async () => {
    await relay?.close({ graceMs: 0 });
    await stack?.close();
    await Promise.all(agents.map((agent) => agent.close()));
    await db?.close();
  });

  const call = async (path: string, body?: unknown) => {
    const res = await app.request(`http://localhost${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as ActionDetail };
  };

  const runAction = async (body: unknown): Promise<ActionDetail> => {
    const accepted = await call('/v1/actions', body);
    expect(accepted.status).toBe(202);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body: detail } = await call(`/v1/actions/${accepted.body.id}`);
      if (['succeeded', 'failed', 'cancelled'].includes(detail.state)) return detail;
      if (Date.now() > deadline)
        throw new Error(`action still ${detail.state}: ${JSON.stringify(detail.progress)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('asks three hosts for their status: every job succeeds with the agent’s answer', async () => {
    const action = await runAction({ action: 'status', target: { tags: { group: 'e2e' } } });

    expect(action).toMatchObject({ state: 'succeeded', counters: { total: 3, succeeded: 3 } });
    expect(action.jobs.map((j) => [j.hostId, j.state])).toEqual(GAME_HOSTS.map((id) => [id, 'succeeded']));
    for (const job of action.jobs) expect(job.result).toMatchObject({ instance: 'main', game: 'demo' });
  });

  it('fails an unknown host with its reason and runs the others', async () => {
    const action = await runAction({
      action: 'status',
      target: { hosts: ['game-1', 'no-such-host', 'game-2'] },
      strategy: { maxErrors: 1 },
    });

    expect(action.state).toBe('succeeded');
    expect(action.reason).toBe('1 of 3 hosts failed, within maxErrors (1)');
    expect(action.jobs.map((j) => [j.hostId, j.state, j.error?.code])).toEqual([
      ['game-1', 'succeeded', undefined],
      ['game-2', 'succeeded', undefined],
      ['no-such-host', 'failed', 'E_UNKNOWN_HOST'],
    ]);
  });

  it('with maxErrors 0, fails the action at the first failing host and skips the later ones', {
    timeout: 60_000,
  }, async () => {
    const action = await runAction({
      action: 'status',
      target: { tags: { flaky: 'maybe' } },
      strategy: { maxConcurrency: 1, maxErrors: 0, jobTimeoutSec: 3 },
    });

    expect(action.state).toBe('failed');
    expect(action.reason).toBe('1 of 4 hosts failed, more than maxErrors (0) allows; 3 not dispatched');
    const down = action.jobs.find((j) => j.hostId === 'a-down');
    expect(down?.state).toMatch(/failed|timed_out/);
    expect(down?.error?.message).toBeTruthy();
    expect(action.jobs.filter((j) => j.hostId !== 'a-down').map((j) => j.state)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
  });
});
