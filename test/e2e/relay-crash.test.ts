/**
 * Issue 5's crash promise, with the relay as a real process: dynalite, the local Step Functions
 * API running workflows/action.ts, the API, scripted agents with slow jobs, and `gsm relay` as a
 * child process (`cli/entry.ts relay`, configured from the environment like in production). The
 * relay is SIGKILLed mid-shard; a second `gsm relay` takes the retried shard and re-attaches.
 * The agents' run lists prove every job ran exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import { createApp } from '../../functions/api/app.js';
import type { ActionDetail } from '../../functions/api/routes/actions.js';
import { type ActionWorkflowStack, startActionWorkflow } from '../../workflows/action.fixture.js';
import { startTestDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.js';
import { MASTER_SECRET, type ScriptedAgent, startScriptedAgent } from '../helpers/relay-agents.js';

type AppDeps = Parameters<typeof createApp>[0];

const ROOT = join(import.meta.dirname, '..', '..');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const HOSTS = 6;
const JOB_MS = 1500;

const until = async (probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('gsm relay killed with SIGKILL mid-action', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let app: ReturnType<typeof createApp>;
  let operatorKey: string;
  const agents: ScriptedAgent[] = [];
  const children = new Set<ChildProcess>();

  const spawnRelay = (relayId: string): ChildProcess => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'cli', 'entry.ts'), 'relay'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH,
        GSM_RELAY_ID: relayId,
        GSM_RELAY_ACTIVITY_ARN: stack.activityArn,
        GSM_AGENT_MASTER_SECRET: MASTER_SECRET,
        GSM_RELAY_HEARTBEAT_SEC: '0.5',
        GSM_RELAY_MONITOR: 'false',
        GSM_RELAY_CONNECT_TIMEOUT_MS: '2000',
        GSM_LOG_LEVEL: 'warn',
        GSM_TABLE: db.table,
        AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
        AWS_ENDPOINT_URL_SFN: stack.server.endpoint,
        AWS_REGION: stack.server.region,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
    });
    // Kept for the failure message: a relay that cannot start says why on stderr.
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && code !== 0)
        process.stderr.write(`relay ${relayId} exited ${code}: ${stderr}\n`);
    });
    children.add(child);
    return child;
  };

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'e2e-relay-crash');
    // A short heartbeat: the killed relay's shard is retried within seconds, not a minute.
    stack = await startActionWorkflow(db.store, { relayHeartbeatSec: 2 });
    for (let i = 0; i < HOSTS; i++) {
      const agent = await startScriptedAgent({ hostId: `crash-${i}`, jobMs: JOB_MS });
      agents.push(agent);
      await db.store.hosts.create({
        id: agent.hostId,
        address: '127.0.0.1',
        port: agent.port,
        tags: { group: 'crash' },
      });
    }
    app = createApp({
      store: db.store,
      logger: createLogger('api', { level: 'silent' }),
      workflows: { sfn: stack.sfn, stateMachines: { action: stack.stateMachineArn } },
    } as Partial<AppDeps> as AppDeps);
    operatorKey = (await db.store.apiKeys.create({ name: 'ops', role: 'operator' })).key;
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
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

  it('a second relay process completes the action; every job ran exactly once', {
    timeout: 60_000,
  }, async () => {
    // Prepare
    const first = spawnRelay('crash-relay-1');
    const accepted = await call('/v1/actions', {
      action: 'start',
      target: { tags: { group: 'crash' } },
      strategy: { maxConcurrency: 2, jobTimeoutSec: 30 },
    });
    expect(accepted.status).toBe(202);
    await until(() => agents.some((a) => a.runs.length > 0), 30_000, 'the first relay to start a job');

    // Act: mid-shard (jobs running on agents, others not dispatched yet), the relay vanishes.
    const runningAtKill = agents.filter((a) => a.runs.length > 0).length;
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    spawnRelay('crash-relay-2');
    let detail: ActionDetail | undefined;
    await until(
      async () => {
        detail = (await call(`/v1/actions/${accepted.body.id}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(detail.state);
      },
      45_000,
      'the action to settle',
    );

    // Assess
    expect(runningAtKill).toBeGreaterThan(0);
    expect(runningAtKill).toBeLessThan(HOSTS);
    expect(detail).toMatchObject({ state: 'succeeded', counters: { total: HOSTS, succeeded: HOSTS } });
    for (const agent of agents) {
      expect(agent.runs).toHaveLength(1);
      expect(agent.duplicates).toEqual([]);
    }
    const jobIds = agents.flatMap((a) => a.runs).sort();
    expect(jobIds).toEqual(detail?.jobs.map((j) => j.id).sort());
    // The jobs the killed relay had started were picked up by ATTACH, not sent again.
    expect(agents.filter((a) => a.attaches.length > 0).length).toBeGreaterThanOrEqual(runningAtKill);
  });
});
