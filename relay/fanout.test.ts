import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STOP_COUNTER } from '../core/model/index.js';
import {
  type RealAgent,
  type ScriptedAgent,
  type ScriptedAgentOptions,
  startRealAgent,
  startScriptedAgent,
  startSilentAgent,
} from '../test/helpers/relay-agents.js';
import { type RelayStack, shard, startRelayStack } from '../test/helpers/relay-stack.js';

describe('relay fan-out (local Step Functions, dynalite, agents on 127.0.0.1)', () => {
  let stack: RelayStack;
  const agents: { close(): Promise<void> }[] = [];
  const scripted = async (hostId: string, options: Omit<ScriptedAgentOptions, 'hostId'> = {}) => {
    const agent = await startScriptedAgent({ hostId, ...options });
    agents.push(agent);
    await stack.addHost(hostId, agent.port);
    return agent;
  };
  const scriptedFleet = async (
    prefix: string,
    size: number,
    options: Omit<ScriptedAgentOptions, 'hostId'>,
  ) => {
    const fleet: ScriptedAgent[] = [];
    for (let i = 0; i < size; i++) fleet.push(await scripted(`${prefix}-${i}`, options));
    return fleet;
  };
  const statusShard = (parentId: string, fleet: ScriptedAgent[], maxConcurrency: number) =>
    shard(
      parentId,
      fleet.map((a) => ({ hostId: a.hostId, action: 'status' })),
      { maxConcurrency },
    );

  beforeAll(async () => {
    stack = await startRelayStack();
    await stack.startRelay();
  });
  afterAll(async () => {
    await stack?.close();
    await Promise.all(agents.map((a) => a.close()));
  });

  it('runs a shard on real agents and completes the activity task with one outcome per host', async () => {
    // Prepare
    const real: RealAgent[] = [];
    for (const id of ['real-1', 'real-2', 'real-3']) {
      const agent = await startRealAgent(id, { gamePort: 29000 + real.length });
      agents.push(agent);
      real.push(agent);
      await stack.addHost(id, agent.port);
    }
    // Act
    const { described, output } = await stack.run(
      shard(
        'act-real',
        real.map((a) => ({ hostId: a.hostId, action: 'status' })),
      ),
    );
    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(output?.counts).toEqual({ succeeded: 3, failed: 0, skipped: 0 });
    for (const result of output?.results ?? []) {
      expect(result.state).toBe('succeeded');
      expect(result.result).toMatchObject({ instance: 'main', game: 'demo' });
    }
    const job = await stack.db.store.jobs.get('act-real.real-1.status');
    expect(job.state).toBe('succeeded');
    expect(job.startedAt).toBeDefined();
    expect(await stack.db.store.counters.get('act-real')).toEqual({ succeeded: 3 });
  });

  it('records progress and the log tail of a job', async () => {
    await scripted('chatty-1', { jobMs: 1200 });
    const { output } = await stack.run(shard('act-chatty', [{ hostId: 'chatty-1', action: 'restart' }]));
    expect(output?.counts.succeeded).toBe(1);
    const job = await stack.db.store.jobs.get('act-chatty.chatty-1.restart');
    expect(job.progress).toEqual({ phase: 'restart' });
    expect(job.logTail).toEqual(['restart on chatty-1']);
  });

  it('never has more than maxConcurrency jobs of a shard in flight at the agents', async () => {
    // Prepare
    const tracker = { now: 0, peak: 0 };
    const fleet = await scriptedFleet('mc', 12, { jobMs: 150, tracker });
    // Act
    const { output } = await stack.run(statusShard('act-mc', fleet, 3));
    // Assess
    expect(output?.counts.succeeded).toBe(12);
    expect(tracker.peak).toBe(3);
  });

  it('reads the hosts of a shard in one batch and the error budget once per refresh, not once per job', async () => {
    // Prepare: 20 hosts dispatched at once, so every lane checks the budget in the same instant.
    const fleet = await scriptedFleet('rd', 20, { jobMs: 20 });
    const hostReads = vi.spyOn(stack.db.store.hosts, 'find');
    const hostBatches = vi.spyOn(stack.db.store.hosts, 'findMany');
    const budgetReads = vi.spyOn(stack.db.store.counters, 'get');
    try {
      // Act
      const { output } = await stack.run(statusShard('act-reads', fleet, 20));
      // Assess
      expect(output?.counts.succeeded).toBe(20);
      expect(hostBatches).toHaveBeenCalledTimes(1);
      expect(hostReads).not.toHaveBeenCalled();
      // The first dispatches share one read; later ones re-read at most every 100 ms of a ~40 ms shard.
      expect(budgetReads.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('a failed batch read of the hosts only costs each job its own read', async () => {
    // Prepare
    const fleet = await scriptedFleet('rdf', 4, { jobMs: 20 });
    const hostReads = vi.spyOn(stack.db.store.hosts, 'find');
    vi.spyOn(stack.db.store.hosts, 'findMany').mockRejectedValueOnce(new Error('throttled'));
    try {
      // Act
      const { output } = await stack.run(statusShard('act-reads-fail', fleet, 4));
      // Assess
      expect(output?.counts).toEqual({ succeeded: 4, failed: 0, skipped: 0 });
      expect(hostReads).toHaveBeenCalledTimes(4);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('maxErrors 0: the first failure stops new dispatch, jobs in flight finish, the rest are skipped', async () => {
    const bad = await scripted('me-bad', { jobMs: 10, failActions: ['stop'] });
    const slow = await scripted('me-slow', { jobMs: 400 });
    const rest: ScriptedAgent[] = [];
    for (let i = 0; i < 4; i++) rest.push(await scripted(`me-${i}`, { jobMs: 10 }));
    const { described, output } = await stack.run(
      shard(
        'act-me',
        [bad, slow, ...rest].map((a) => ({ hostId: a.hostId, action: 'stop' })),
        { maxConcurrency: 2, maxErrors: 0 },
      ),
    );
    expect(described.status).toBe('SUCCEEDED');
    const byHost = Object.fromEntries((output?.results ?? []).map((r) => [r.hostId, r]));
    expect(byHost['me-bad']?.state).toBe('failed');
    expect(byHost['me-bad']?.error?.code).toBe('E_GAME_FAILED');
    expect(byHost['me-slow']?.state).toBe('succeeded');
    for (const agent of rest) {
      expect(byHost[agent.hostId]?.state).toBe('cancelled');
      expect(byHost[agent.hostId]?.error?.code).toBe('E_ERROR_BUDGET');
      expect(agent.runs).toEqual([]);
    }
    expect(output?.counts).toEqual({ succeeded: 1, failed: 1, skipped: 4 });
    expect(await stack.db.store.counters.get('act-me')).toEqual({ succeeded: 1, failed: 1, skipped: 4 });
  });

  it('a stop requested on the parent (an operator cancel) dispatches nothing more; jobs in flight finish', async () => {
    // Prepare: two slow hosts run first, one lane each; four more wait behind them.
    const slow = [await scripted('st-slow-0', { jobMs: 600 }), await scripted('st-slow-1', { jobMs: 600 })];
    const rest: ScriptedAgent[] = [];
    for (let i = 0; i < 4; i++) rest.push(await scripted(`st-${i}`, { jobMs: 10 }));
    const execution = await stack.start(
      shard(
        'act-stop',
        [...slow, ...rest].map((a) => ({ hostId: a.hostId, action: 'status' })),
        { maxConcurrency: 2, maxErrors: 10 },
      ),
    );
    // Act: the stop lands while the slow pair is in flight.
    for (let i = 0; i < 100 && slow.some((a) => a.runs.length === 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await stack.db.store.counters.add('act-stop', { [STOP_COUNTER]: 1 });
    const { described, output } = await stack.wait(execution);
    // Assess
    expect(described.status).toBe('SUCCEEDED');
    const byHost = Object.fromEntries((output?.results ?? []).map((r) => [r.hostId, r]));
    for (const agent of slow) expect(byHost[agent.hostId]?.state).toBe('succeeded');
    for (const agent of rest) {
      expect(byHost[agent.hostId]?.state).toBe('cancelled');
      expect(byHost[agent.hostId]?.error?.code).toBe('E_STOPPED');
      expect(agent.runs).toEqual([]);
    }
    expect(output?.counts).toEqual({ succeeded: 2, failed: 0, skipped: 4 });
  });

  it('a host that accepts and never answers times out while the others finish on time', async () => {
    const silent = await startSilentAgent();
    agents.push(silent);
    await stack.addHost('silent-1', silent.port);
    const fast = [await scripted('st-a', { jobMs: 50 }), await scripted('st-b', { jobMs: 50 })];
    const execution = await stack.start(
      shard(
        'act-st',
        [
          { hostId: 'silent-1', action: 'start' },
          ...fast.map((a) => ({ hostId: a.hostId, action: 'start' })),
        ],
        {
          jobTimeoutSec: 2,
        },
      ),
    );
    await waitForJob(stack, 'act-st.st-b.start', 'succeeded', 10_000);
    const { output } = await stack.wait(execution);
    const silentResult = output?.results.find((r) => r.hostId === 'silent-1');
    expect(silentResult?.state).toBe('timed_out');
    expect(silentResult?.error?.code).toBe('E_TIMEOUT');
    expect(silentResult?.error?.message).toMatch(/silent-1/);
    expect(output?.counts).toEqual({ succeeded: 2, failed: 1, skipped: 0 });
    // The fast hosts finished while the silent one was still waiting out its timeout.
    const ended = async (id: string) => Date.parse((await stack.db.store.jobs.get(id)).endedAt ?? '');
    expect(await ended('act-st.st-b.start')).toBeLessThan(await ended('act-st.silent-1.start'));
  });

  it('an unknown host and a wrong secret fail clearly per host without stalling the others', async () => {
    const wrong = await startScriptedAgent({ hostId: 'ws-1', secret: 'not-the-derived-secret-at-all' });
    agents.push(wrong);
    await stack.addHost('ws-1', wrong.port);
    const ok = await scripted('ok-1');
    const { output } = await stack.run(
      shard('act-bad', [
        { hostId: 'ghost-1', action: 'start' },
        { hostId: 'ws-1', action: 'start' },
        { hostId: ok.hostId, action: 'start' },
      ]),
    );
    const byHost = Object.fromEntries((output?.results ?? []).map((r) => [r.hostId, r]));
    expect(byHost['ghost-1']).toMatchObject({ state: 'failed', error: { code: 'E_UNKNOWN_HOST' } });
    expect(byHost['ws-1']).toMatchObject({ state: 'failed', error: { code: 'E_AUTH_FAILED' } });
    expect(byHost['ws-1']?.error?.message).toMatch(/ws-1/);
    expect(byHost['ok-1']?.state).toBe('succeeded');
    expect((await stack.db.store.jobs.get('act-bad.ghost-1.start')).error?.code).toBe('E_UNKNOWN_HOST');
  });

  it('refuses bad task input with SendTaskFailure gsm.InvalidInput', async () => {
    const { described } = await stack.run({ parentType: 'action', parentId: 'act-x', jobs: [] });
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('gsm.InvalidInput');
    expect(described.cause).toMatch(/jobs/);
  });
});

const waitForJob = async (stack: RelayStack, jobId: string, state: string, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await stack.db.store.jobs.get(jobId).catch(() => undefined);
    if (job?.state === state) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} not ${state} after ${timeoutMs} ms (is ${job?.state})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
