import { existsSync } from 'node:fs';
import { mkdir, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeControl } from '../fixtures/demo-game/harness.js';
import { type AgentWorld, createAgentWorld } from '../helpers/agent-fixture.js';
import {
  AgentClient,
  type AgentProcess,
  errorOf,
  okResult,
  spawnAgent,
  writeAgentConfig,
} from '../helpers/agent-process.js';

/**
 * Issue 4's "done when", against a real `gsm agent` process driven through the protocol
 * library: install from a local origin past a dead and a corrupt one, start, status through a
 * real Quake 3 query, stop with drain, install/switch/rollback, a faulty build switched back.
 */
let world: AgentWorld;
let agent: AgentProcess;
let client: AgentClient;
let configFile: string;
const gamePids = new Set<number>();

type Status = {
  running: boolean;
  pid?: number;
  version?: string;
  previous?: string;
  adopted: boolean;
  query?: { ok: boolean; players?: number; maxPlayers?: number; map?: string; code?: string };
};

const status = async (c: AgentClient = client): Promise<Status> => {
  const s = okResult<Status>(
    await c.job(`status-${Math.random().toString(36).slice(2)}`, 'status', { instance: 'alpha' }),
  );
  if (s.pid) gamePids.add(s.pid);
  return s;
};

beforeAll(async () => {
  world = await createAgentWorld();
  await mkdir(dirname(world.control), { recursive: true });
  configFile = await writeAgentConfig(world.root, world.config());
  agent = await spawnAgent(configFile);
  client = await AgentClient.connect(agent.port);
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  agent?.child.kill('SIGKILL');
  for (const pid of gamePids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await world?.close();
});

describe('gsm agent as a process', () => {
  it('installs demo 1.0.0 past a dead origin and one serving a corrupt file (.tar.gz), then from .tar.bz2', async () => {
    const gz = world.pkg('1.0.0', 'tar.gz');
    const first = await client.job('install-gz', 'install', {
      instance: 'alpha',
      urls: [world.dead, world.corrupt.url(gz.name), gz.url],
      sha256: gz.sha256,
      size: gz.size,
      version: '1.0.0',
      game: 'demo',
    });
    expect(first.ack?.status).toBe('accepted');
    expect(okResult(first)).toMatchObject({ version: '1.0.0', origin: gz.url, reused: false });
    expect(first.progress.some((p) => p.phase === 'download')).toBe(true);

    const bz = world.pkg('1.0.0', 'tar.bz2');
    const second = await client.job('install-bz2', 'install', {
      instance: 'alpha',
      urls: [bz.url],
      sha256: bz.sha256,
      size: bz.size,
      version: '1.0.0',
    });
    expect(okResult(second)).toMatchObject({ version: '1.0.0', sha256: bz.sha256, reused: false });
    const release = join(world.dataDir, 'instances', 'alpha', 'releases', '1.0.0');
    expect(existsSync(join(release, 'server.mjs'))).toBe(true);
    // Pre-staging only: nothing is current yet.
    expect(existsSync(join(world.dataDir, 'instances', 'alpha', 'current'))).toBe(false);
  });

  it('switches to 1.0.0 and starts it; status reads players and map through a real Quake 3 query', async () => {
    await writeControl(world.control, 3, 'mp_backlot');
    const switched = okResult<{ pid: number; version: string }>(
      await client.job('switch-1.0.0', 'switch', { instance: 'alpha', version: '1.0.0' }),
    );
    gamePids.add(switched.pid);
    expect(switched.version).toBe('1.0.0');
    expect(await readlink(join(world.dataDir, 'instances', 'alpha', 'current'))).toBe(
      join('releases', '1.0.0'),
    );
    const s = await status();
    expect(s).toMatchObject({ running: true, pid: switched.pid, version: '1.0.0' });
    expect(s.query).toMatchObject({ ok: true, players: 3, maxPlayers: 16, map: 'mp_backlot' });
  });

  it('stops with drain: waits while players are on, stops once they have left', async () => {
    await writeControl(world.control, 2, 'mp_backlot');
    await client.send({
      type: 'JOB',
      jobId: 'stop-drain',
      action: 'stop',
      params: { instance: 'alpha', drain: { timeoutSec: 10 } },
    });
    await client.waitFor(
      'stop-drain',
      (m) => m.type === 'LOG' && m.lines.some((l) => l.includes('2 player(s)')),
    );
    // STATUS is never blocked by a running job.
    expect((await client.status()).jobs).toEqual([
      expect.objectContaining({ jobId: 'stop-drain', phase: 'drain' }),
    ]);
    await writeControl(world.control, 0, 'mp_backlot');
    const stopped = okResult<{ wasRunning: boolean; drain: { drained: boolean; waitedMs: number } }>(
      await client.outcome('stop-drain'),
    );
    expect(stopped.wasRunning).toBe(true);
    expect(stopped.drain.drained).toBe(true);
    expect(stopped.drain.waitedMs).toBeGreaterThan(0);
    expect((await status()).running).toBe(false);
  });
});
