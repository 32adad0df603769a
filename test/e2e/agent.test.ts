import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeControl } from '../../local/demo-game/harness.js';
import {
  AgentClient,
  errorOf,
  okResult,
  processAlive,
  spawnAgent,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { type AgentSession, startAgentSession } from '../helpers/agent-session.js';

/**
 * Issue 4's "done when", against a real `gsm agent` process driven through the protocol
 * library: install from a local origin past a dead and a corrupt one, start, status through a
 * real Quake 3 query, stop with drain, install/switch/rollback, a faulty build switched back,
 * restarts, the origin role. Bad input is agent-bad-input.test.ts, against its own agent.
 */
let session: AgentSession;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  session = await startAgentSession();
});

afterAll(async () => {
  await session?.close();
});

describe('gsm agent as a process', () => {
  it('installs demo 1.0.0 past a dead origin and one serving a corrupt file (.tar.gz), then from .tar.bz2', async () => {
    const gz = session.world.pkg('1.0.0', 'tar.gz');
    const first = await session.client.job('install-gz', 'install', {
      instance: 'alpha',
      urls: [session.world.dead, session.world.corrupt.url(gz.name), gz.url],
      sha256: gz.sha256,
      size: gz.size,
      version: '1.0.0',
      game: 'demo',
    });
    expect(first.ack?.status).toBe('accepted');
    expect(okResult(first)).toMatchObject({ version: '1.0.0', origin: gz.url, reused: false });
    expect(first.progress.some((p) => p.phase === 'download')).toBe(true);

    const bz = session.world.pkg('1.0.0', 'tar.bz2');
    const second = await session.client.job('install-bz2', 'install', {
      instance: 'alpha',
      urls: [bz.url],
      sha256: bz.sha256,
      size: bz.size,
      version: '1.0.0',
    });
    expect(okResult(second)).toMatchObject({ version: '1.0.0', sha256: bz.sha256, reused: false });
    const release = join(session.world.dataDir, 'instances', 'alpha', 'releases', '1.0.0');
    expect(existsSync(join(release, 'server.mjs'))).toBe(true);
    // Pre-staging only: nothing is current yet.
    expect(existsSync(join(session.world.dataDir, 'instances', 'alpha', 'current'))).toBe(false);
  });

  it('switches to 1.0.0 and starts it; status reads players and map through a real Quake 3 query', async () => {
    await writeControl(session.world.control, 3, 'mp_backlot');
    const switched = okResult<{ pid: number; version: string }>(
      await session.client.job('switch-1.0.0', 'switch', { instance: 'alpha', version: '1.0.0' }),
    );
    session.gamePids.add(switched.pid);
    expect(switched.version).toBe('1.0.0');
    expect(await readlink(join(session.world.dataDir, 'instances', 'alpha', 'current'))).toBe(
      join('releases', '1.0.0'),
    );
    const s = await session.status();
    expect(s).toMatchObject({ running: true, pid: switched.pid, version: '1.0.0' });
    expect(s.query).toMatchObject({ ok: true, players: 3, maxPlayers: 16, map: 'mp_backlot' });
  });

  it('reports version, players and map in STATUS from its background observation, without querying on demand', async () => {
    let alpha: Record<string, unknown> | undefined;
    for (let i = 0; i < 100; i++) {
      const instances = (await session.client.status()).instances as Record<string, Record<string, unknown>>;
      alpha = instances.alpha;
      if (alpha?.players === 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(alpha).toMatchObject({
      state: 'running',
      version: '1.0.0',
      players: 3,
      maxPlayers: 16,
      map: 'mp_backlot',
    });
  });

  it('stops with drain: waits while players are on, stops once they have left', async () => {
    await writeControl(session.world.control, 2, 'mp_backlot');
    await session.client.send({
      type: 'JOB',
      jobId: 'stop-drain',
      action: 'stop',
      params: { instance: 'alpha', drain: { timeoutSec: 10 } },
    });
    await session.client.waitFor(
      'stop-drain',
      (m) => m.type === 'LOG' && m.lines.some((l) => l.includes('2 player(s)')),
    );
    // STATUS is never blocked by a running job.
    expect((await session.client.status()).jobs).toEqual([
      expect.objectContaining({ jobId: 'stop-drain', phase: 'drain' }),
    ]);
    await writeControl(session.world.control, 0, 'mp_backlot');
    const stopped = okResult<{ wasRunning: boolean; drain: { drained: boolean; waitedMs: number } }>(
      await session.client.outcome('stop-drain'),
    );
    expect(stopped.wasRunning).toBe(true);
    expect(stopped.drain.drained).toBe(true);
    expect(stopped.drain.waitedMs).toBeGreaterThan(0);
    expect((await session.status()).running).toBe(false);
  });
  it('answers details (OS, CPU, memory, disk) without naming an instance', async () => {
    const details = okResult(await session.client.job('details-1', 'details'));
    expect(details).toMatchObject({
      os: { platform: 'linux' },
      cpu: { cores: expect.any(Number) },
      memory: { totalBytes: expect.any(Number) },
      disk: { path: session.world.dataDir, totalBytes: expect.any(Number), freeBytes: expect.any(Number) },
    });
  });
});

describe('versions', () => {
  it('pre-stages 1.1.0 without touching the running 1.0.0, switches to it, rolls back', async () => {
    const started = okResult<{ pid: number }>(
      await session.client.job('start-1', 'start', { instance: 'alpha' }),
    );
    session.gamePids.add(started.pid);
    const pkg = session.world.pkg('1.1.0', 'tar.gz');
    okResult(
      await session.client.job('install-1.1.0', 'install', {
        instance: 'alpha',
        urls: [pkg.url],
        sha256: pkg.sha256,
        version: '1.1.0',
      }),
    );
    expect(await session.status()).toMatchObject({ running: true, pid: started.pid, version: '1.0.0' });

    const switched = okResult<{ pid: number; previous: string }>(
      await session.client.job('switch-1.1.0', 'switch', { instance: 'alpha', version: '1.1.0' }),
    );
    session.gamePids.add(switched.pid);
    expect(switched.previous).toBe('1.0.0');
    expect(switched.pid).not.toBe(started.pid);
    expect(await session.status()).toMatchObject({
      running: true,
      version: '1.1.0',
      previous: '1.0.0',
      query: { ok: true },
    });

    const rolled = okResult<{ pid: number; version: string }>(
      await session.client.job('rollback-1', 'rollback', { instance: 'alpha' }),
    );
    session.gamePids.add(rolled.pid);
    expect(rolled.version).toBe('1.0.0');
    expect(await session.status()).toMatchObject({
      running: true,
      version: '1.0.0',
      previous: '1.1.0',
      query: { ok: true },
    });
  });

  it('deploys a faulty build that fails its health check: switched back, the previous version keeps serving', async () => {
    const before = await session.status();
    const faulty = session.world.pkg('1.1.0-faulty', 'tar.gz');
    const outcome = await session.client.job('deploy-faulty', 'deploy', {
      instance: 'alpha',
      urls: [faulty.url],
      sha256: faulty.sha256,
      version: '1.1.0-faulty',
      healthTimeoutSec: 2,
    });
    const error = errorOf(outcome);
    expect(error.code).toBe('E_HEALTH_CHECK_FAILED');
    expect(error.message).toContain('switched back to 1.0.0');
    const phases = outcome.progress.map((p) => p.phase);
    expect(phases).toEqual(
      expect.arrayContaining(['download', 'stop', 'switch', 'start', 'health', 'revert']),
    );
    const after = await session.status();
    expect(after).toMatchObject({ running: true, version: '1.0.0', query: { ok: true } });
    expect(after.pid).not.toBe(before.pid);
  });

  it('refuses a second mutating job on a busy instance with E_BUSY; status still answers', async () => {
    await writeControl(session.world.control, 1, 'mp_backlot');
    await session.client.send({
      type: 'JOB',
      jobId: 'stop-busy',
      action: 'stop',
      params: { instance: 'alpha', drain: { timeoutSec: 30 } },
    });
    await session.client.waitFor('stop-busy', (m) => m.type === 'PROGRESS' && m.phase === 'drain');
    expect(errorOf(await session.client.job('start-busy', 'start', { instance: 'alpha' })).code).toBe(
      'E_BUSY',
    );
    expect((await session.status()).running).toBe(true);
    await session.client.send({ type: 'CANCEL', jobId: 'stop-busy' });
    expect(errorOf(await session.client.outcome('stop-busy')).code).toBe('E_CANCELLED');
    expect((await session.status()).running).toBe(true);
  });
});

describe('agent restarts', () => {
  it('killed with SIGKILL mid-job and started again: re-adopts the game server and answers for its jobs', async () => {
    const before = await session.status();
    expect(before.running).toBe(true);
    await writeControl(session.world.control, 2, 'mp_crash');
    await session.client.send({
      type: 'JOB',
      jobId: 'cut-off',
      action: 'stop',
      params: { instance: 'alpha', drain: { timeoutSec: 60 } },
    });
    await session.client.waitFor('cut-off', (m) => m.type === 'PROGRESS' && m.phase === 'drain');

    session.agent.child.kill('SIGKILL');
    await session.agent.exited;
    expect(processAlive(before.pid as number)).toBe(true);

    session.agent = await spawnAgent(session.configFile);
    session.client = await AgentClient.connect(session.agent.port);
    const after = await session.status();
    expect(after).toMatchObject({ running: true, pid: before.pid, adopted: true, version: '1.0.0' });
    expect(after.query).toMatchObject({ ok: true, players: 2, map: 'mp_crash' });

    // A completed job sent again: ACK duplicate and its recorded RESULT, not a second run.
    const again = await session.client.job('install-gz', 'install', { instance: 'alpha' });
    expect(again.ack?.status).toBe('duplicate');
    expect(okResult(again)).toMatchObject({ version: '1.0.0', reused: false });
    // The job the crash cut off: failed with a clear reason, never re-run.
    const cut = await session.client.job('cut-off', 'stop', { instance: 'alpha', drain: { timeoutSec: 60 } });
    expect(cut.ack?.status).toBe('duplicate');
    const error = errorOf(cut);
    expect(error.code).toBe('E_AGENT_RESTARTED');
    expect(error.message).toContain('not completed');
    await session.client.send({ type: 'ATTACH', jobId: 'cut-off' });
    await session.client.waitFor('cut-off', (m) => m.type === 'RESULT' && m !== cut.result);
    expect((await session.status()).pid).toBe(before.pid);

    // The adopted server is still ours to stop.
    await writeControl(session.world.control, 0);
    const stopped = okResult<{ wasRunning: boolean }>(
      await session.client.job('stop-adopted', 'stop', { instance: 'alpha' }),
    );
    expect(stopped.wasRunning).toBe(true);
    expect(processAlive(before.pid as number)).toBe(false);
    const restarted = okResult<{ pid: number }>(
      await session.client.job('start-again', 'start', { instance: 'alpha' }),
    );
    session.gamePids.add(restarted.pid);
  });

  it('stops on SIGTERM with exit code 0 and leaves the game server running for the next agent', async () => {
    const before = await session.status();
    await session.client.close();
    session.agent.child.kill('SIGTERM');
    expect(await session.agent.exited).toBe(0);
    expect(processAlive(before.pid as number)).toBe(true);
    session.agent = await spawnAgent(session.configFile);
    session.client = await AgentClient.connect(session.agent.port);
    expect(await session.status()).toMatchObject({ running: true, pid: before.pid, adopted: true });
  });

  it.runIf(process.getuid?.() === 0)(
    'refuses to run game servers as root unless the config allows it',
    async () => {
      await session.client.close();
      session.agent.child.kill('SIGTERM');
      expect(await session.agent.exited).toBe(0);
      const strictFile = await writeAgentConfig(
        join(session.world.root, 'strict'),
        session.world.config({ allowRoot: false }),
      );
      session.agent = await spawnAgent(strictFile);
      session.client = await AgentClient.connect(session.agent.port);
      // The running server is adopted, not killed; a new start is refused.
      okResult(await session.client.job('strict-stop', 'stop', { instance: 'alpha' }));
      const refused = errorOf(await session.client.job('strict-start', 'start', { instance: 'alpha' }));
      expect(refused.code).toBe('E_RUN_AS_ROOT');
      expect(refused.message).toContain('allowRoot');
    },
  );
});

describe('origin role', () => {
  it('stages a package: fetched, verified and published under the web root', async () => {
    const originData = join(session.world.root, 'origin');
    const webRoot = join(originData, 'www');
    const file = await writeAgentConfig(
      originData,
      session.world.config({
        role: 'origin',
        webRoot,
        instances: [],
        dataDir: join(originData, 'data'),
        listen: { host: '127.0.0.1', port: 0 },
      }),
    );
    const origin = await spawnAgent(file);
    const c = await AgentClient.connect(origin.port);
    try {
      const pkg = session.world.pkg('1.0.0', 'tar.gz');
      const staged = okResult<{ path: string; urlPath: string; sha256: string }>(
        await c.job('stage-1', 'stage', {
          url: pkg.url,
          sha256: pkg.sha256,
          size: pkg.size,
          game: 'demo',
          version: '1.0.0',
          file: 'demo-1.0.0.tar.gz',
        }),
      );
      expect(staged.path).toBe(join(webRoot, 'packages', 'demo', '1.0.0', 'demo-1.0.0.tar.gz'));
      expect(sha256(await readFile(staged.path))).toBe(pkg.sha256);
      const bad = await c.job('stage-bad', 'stage', {
        url: pkg.url,
        sha256: pkg.sha256,
        game: 'demo',
        version: '1.0.0',
        file: '../../escape.tar.gz',
      });
      expect(errorOf(bad).code).toBe('E_INVALID_ARGUMENT');
    } finally {
      await c.close();
      origin.child.kill('SIGTERM');
      expect(await origin.exited).toBe(0);
    }
  });
});
