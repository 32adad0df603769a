import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/log.js';
import { startLegacyAgent } from '../protocol/legacy-server.js';
import {
  MASTER_SECRET,
  type ScriptedAgent,
  type ScriptedAgentOptions,
  startScriptedAgent,
} from '../test/helpers/relay-agents.js';
import { type RelayStack, shard, startRelayStack } from '../test/helpers/relay-stack.js';
import { runShard } from './fanout.js';
import { Semaphore } from './semaphore.js';
import { SessionPool } from './sessions.js';

const silentLogger = createLogger('relay-test', { level: 'silent' });

describe('relay recovery: dropped sessions, dead relays, competing relays, legacy hosts', () => {
  let stack: RelayStack;
  const closers: { close(): Promise<void> }[] = [];
  const scripted = async (hostId: string, options: Omit<ScriptedAgentOptions, 'hostId'> = {}) => {
    const agent = await startScriptedAgent({ hostId, ...options });
    closers.push(agent);
    await stack.addHost(hostId, agent.port);
    return agent;
  };
  const everyJobRanOnce = (agents: readonly ScriptedAgent[]) => {
    for (const agent of agents) {
      expect(new Set(agent.runs).size).toBe(agent.runs.length);
      expect(agent.runs.length).toBe(1);
    }
  };

  beforeAll(async () => {
    stack = await startRelayStack({ heartbeatSeconds: 1 });
  });
  afterAll(async () => {
    await stack?.close();
    await Promise.all(closers.map((c) => c.close()));
  });

  it('an agent that drops the session mid-job is reconnected and re-attached; the job runs once', async () => {
    const relay = await stack.startRelay();
    const flaky = await scripted('drop-1', { jobMs: 600, dropSessionAfterMs: 100 });
    const { output } = await stack.run(shard('act-drop', [{ hostId: 'drop-1', action: 'restart' }]));
    expect(output?.results[0]).toMatchObject({ state: 'succeeded', result: { action: 'restart' } });
    expect(flaky.runs).toEqual(['act-drop.drop-1.restart']);
    expect(flaky.attaches).toContain('act-drop.drop-1.restart');
    expect(flaky.sessions()).toBeGreaterThanOrEqual(2);
    await relay.close({ graceMs: 0 });
  });

  it('a relay that dies mid-shard leaves the retry to a second relay, which finishes every job exactly once', async () => {
    // Prepare
    const fleet: ScriptedAgent[] = [];
    for (let i = 0; i < 6; i++) fleet.push(await scripted(`kill-${i}`, { jobMs: 800 }));
    const first = await stack.startRelay();
    const execution = await stack.start(
      shard(
        'act-kill',
        fleet.map((a) => ({ hostId: a.hostId, action: 'start' })),
        { maxConcurrency: 3, jobTimeoutSec: 10 },
      ),
    );
    await until(async () => fleet.filter((a) => a.runs.length > 0).length >= 3, 5000);
    // Act: the first relay vanishes without a word, like a SIGKILL.
    await first.close({ abandon: true });
    const second = await stack.startRelay();
    const { described, output } = await stack.wait(execution, 20_000);
    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(output?.counts).toEqual({ succeeded: 6, failed: 0, skipped: 0 });
    everyJobRanOnce(fleet);
    // The jobs the first relay started were re-attached, not sent again as new work.
    const reattached = fleet.filter((a) => a.attaches.length > 0 || a.duplicates.length > 0);
    expect(reattached.length).toBeGreaterThanOrEqual(3);
    expect(await stack.db.store.counters.get('act-kill')).toEqual({ succeeded: 6 });
    await second.close({ graceMs: 0 });
  });

  it('two relays polling one activity never run a job twice', async () => {
    const relays = [await stack.startRelay(), await stack.startRelay()];
    const fleet: ScriptedAgent[] = [];
    for (let i = 0; i < 8; i++) fleet.push(await scripted(`two-${i}`, { jobMs: 100 }));
    const runs = await Promise.all(
      [0, 1, 2, 3].map((n) =>
        stack.run(
          shard(
            `act-two-${n}`,
            fleet.map((a) => ({ hostId: a.hostId, action: 'status' })),
            { maxConcurrency: 4 },
          ),
        ),
      ),
    );
    for (const { output } of runs) expect(output?.counts.succeeded).toBe(8);
    for (const agent of fleet) {
      expect(agent.runs.length).toBe(4);
      expect(new Set(agent.runs).size).toBe(4);
      expect(agent.duplicates).toEqual([]);
    }
    await Promise.all(relays.map((r) => r.close({ graceMs: 0 })));
  });

  it('the same shard run by two relays at once: the claim lets one dispatch, the other re-attaches', async () => {
    const fleet: ScriptedAgent[] = [];
    for (let i = 0; i < 5; i++) fleet.push(await scripted(`race-${i}`, { jobMs: 200 }));
    const input = shard(
      'act-race',
      fleet.map((a) => ({ hostId: a.hostId, action: 'stop' })),
    );
    const deps = (relayId: string) => ({
      store: stack.db.store,
      logger: silentLogger,
      relayId,
      inFlight: new Semaphore(100),
      pool: new SessionPool({
        relayId,
        masterSecret: MASTER_SECRET,
        connectTimeoutMs: 2000,
        logger: silentLogger,
      }),
    });
    const [a, b] = [deps('racer-a'), deps('racer-b')];
    const never = new AbortController().signal;
    const [outA, outB] = await Promise.all([runShard(input, a, never), runShard(input, b, never)]);
    await Promise.all([a.pool.close(), b.pool.close()]);
    expect(outA.counts.succeeded).toBe(5);
    expect(outB.counts.succeeded).toBe(5);
    everyJobRanOnce(fleet);
    for (const agent of fleet) expect(agent.jobFrames.length).toBe(1);
  });

  it('a legacy host gets st and sp; a wrong key and an unsupported action fail clearly', async () => {
    const relay = await stack.startRelay();
    const legacy = await startLegacyAgent({ key: 'old-key' });
    const wrong = await startLegacyAgent({ key: 'another-key' });
    closers.push(legacy, wrong);
    await stack.addHost('legacy-1', legacy.port, { protocol: 'legacy', legacyKey: 'old-key' });
    await stack.addHost('legacy-2', wrong.port, { protocol: 'legacy', legacyKey: 'old-key' });

    const started = await stack.run(shard('act-lg-start', [{ hostId: 'legacy-1', action: 'start' }]));
    const stopped = await stack.run(
      shard('act-lg-stop', [
        { hostId: 'legacy-1', action: 'stop' },
        { hostId: 'legacy-2', action: 'stop' },
        { hostId: 'legacy-1', action: 'status' },
      ]),
    );

    expect(legacy.commands.map((c) => c.command)).toEqual(['st', 'sp']);
    expect(started.output?.results[0]).toMatchObject({
      state: 'succeeded',
      result: { protocol: 'legacy', command: 'st', progress: 'unknown', health: 'unknown' },
    });
    const byJob = Object.fromEntries((stopped.output?.results ?? []).map((r) => [r.jobId, r]));
    expect(byJob['act-lg-stop.legacy-1.stop']?.state).toBe('succeeded');
    expect(byJob['act-lg-stop.legacy-2.stop']).toMatchObject({
      state: 'failed',
      error: { code: 'E_LEGACY_REJECTED' },
    });
    expect(byJob['act-lg-stop.legacy-2.stop']?.error?.message).toMatch(/legacy-2.*wrong key/);
    expect(byJob['act-lg-stop.legacy-1.status']).toMatchObject({
      state: 'failed',
      error: { code: 'E_UNSUPPORTED_BY_LEGACY' },
    });
    expect(wrong.rejected()).toBe(1);
    await relay.close({ graceMs: 0 });
  });

  it('the monitor marks a live host online with its instances and a dead one offline', async () => {
    const live = await startScriptedAgent({ hostId: 'mon-live' });
    closers.push(live);
    const instances = [{ name: 'main', game: 'demo', port: 28960 }];
    await stack.addHost('mon-live', live.port, { instances });
    const dead = await startScriptedAgent({ hostId: 'mon-dead' });
    await stack.addHost('mon-dead', dead.port, { instances });
    await dead.close();
    const relay = await stack.startRelay({
      monitor: {
        enabled: true,
        intervalMs: 100,
        ratePerSec: 100,
        missesBeforeOffline: 2,
        probeTimeoutMs: 500,
      },
    });
    await until(async () => {
      const [a, b] = await Promise.all([
        stack.db.store.hosts.get('mon-live'),
        stack.db.store.hosts.get('mon-dead'),
      ]);
      return a.status === 'online' && b.status === 'offline';
    }, 8000);
    const host = await stack.db.store.hosts.get('mon-live');
    expect(host.agentVersion).toBe('scripted-1');
    expect(host.lastSeen).toBeDefined();
    expect(host.instances).toEqual([
      {
        name: 'main',
        game: 'demo',
        port: 28960,
        state: 'running',
        version: '1.0.0',
        players: 3,
        maxPlayers: 16,
        map: 'mp_crash',
      },
    ]);
    await relay.close({ graceMs: 0 });
  });
});

const until = async (probe: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};
