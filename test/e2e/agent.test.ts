import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeControl } from '../../local/demo-game/harness.js';
import { startFrameProxy } from '../../protocol/test-support.js';
import { type AgentWorld, createAgentWorld, listTree } from '../helpers/agent-fixture.js';
import {
  AGENT_SECRET,
  AgentClient,
  type AgentProcess,
  errorOf,
  okResult,
  processAlive,
  spawnAgent,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { gzip, hostileArchives, zeroBomb } from '../helpers/archives.js';
import { startOrigin } from '../helpers/http-origin.js';
import {
  plainErrorCode,
  rawExchange,
  sendUncheckedJob,
  startDyingOrigin,
} from '../helpers/raw-agent-client.js';

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

const flipLast = (frame: Buffer): Buffer => {
  const copy = Buffer.from(frame);
  copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01;
  return copy;
};
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const hostile = hostileArchives().map((archive, i) => ({
  ...archive,
  file: `hostile-${i}.tar.gz`,
  bytes: gzip(archive.tar),
}));
const bomb = zeroBomb(30, 1024 * 1024);
const hostileFiles = () =>
  new Map<string, Buffer>([...hostile.map((h) => [h.file, h.bytes] as const), ['bomb.tar.gz', bomb]]);

beforeAll(async () => {
  world = await createAgentWorld(hostileFiles());
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

  it('reports version, players and map in STATUS from its background observation, without querying on demand', async () => {
    let alpha: Record<string, unknown> | undefined;
    for (let i = 0; i < 100; i++) {
      const instances = (await client.status()).instances as Record<string, Record<string, unknown>>;
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
  it('answers details (OS, CPU, memory, disk) without naming an instance', async () => {
    const details = okResult(await client.job('details-1', 'details'));
    expect(details).toMatchObject({
      os: { platform: 'linux' },
      cpu: { cores: expect.any(Number) },
      memory: { totalBytes: expect.any(Number) },
      disk: { path: world.dataDir, totalBytes: expect.any(Number), freeBytes: expect.any(Number) },
    });
  });
});

describe('versions', () => {
  it('pre-stages 1.1.0 without touching the running 1.0.0, switches to it, rolls back', async () => {
    const started = okResult<{ pid: number }>(await client.job('start-1', 'start', { instance: 'alpha' }));
    gamePids.add(started.pid);
    const pkg = world.pkg('1.1.0', 'tar.gz');
    okResult(
      await client.job('install-1.1.0', 'install', {
        instance: 'alpha',
        urls: [pkg.url],
        sha256: pkg.sha256,
        version: '1.1.0',
      }),
    );
    expect(await status()).toMatchObject({ running: true, pid: started.pid, version: '1.0.0' });

    const switched = okResult<{ pid: number; previous: string }>(
      await client.job('switch-1.1.0', 'switch', { instance: 'alpha', version: '1.1.0' }),
    );
    gamePids.add(switched.pid);
    expect(switched.previous).toBe('1.0.0');
    expect(switched.pid).not.toBe(started.pid);
    expect(await status()).toMatchObject({
      running: true,
      version: '1.1.0',
      previous: '1.0.0',
      query: { ok: true },
    });

    const rolled = okResult<{ pid: number; version: string }>(
      await client.job('rollback-1', 'rollback', { instance: 'alpha' }),
    );
    gamePids.add(rolled.pid);
    expect(rolled.version).toBe('1.0.0');
    expect(await status()).toMatchObject({
      running: true,
      version: '1.0.0',
      previous: '1.1.0',
      query: { ok: true },
    });
  });

  it('deploys a faulty build that fails its health check: switched back, the previous version keeps serving', async () => {
    const before = await status();
    const faulty = world.pkg('1.1.0-faulty', 'tar.gz');
    const outcome = await client.job('deploy-faulty', 'deploy', {
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
    const after = await status();
    expect(after).toMatchObject({ running: true, version: '1.0.0', query: { ok: true } });
    expect(after.pid).not.toBe(before.pid);
  });

  it('refuses a second mutating job on a busy instance with E_BUSY; status still answers', async () => {
    await writeControl(world.control, 1, 'mp_backlot');
    await client.send({
      type: 'JOB',
      jobId: 'stop-busy',
      action: 'stop',
      params: { instance: 'alpha', drain: { timeoutSec: 30 } },
    });
    await client.waitFor('stop-busy', (m) => m.type === 'PROGRESS' && m.phase === 'drain');
    expect(errorOf(await client.job('start-busy', 'start', { instance: 'alpha' })).code).toBe('E_BUSY');
    expect((await status()).running).toBe(true);
    await client.send({ type: 'CANCEL', jobId: 'stop-busy' });
    expect(errorOf(await client.outcome('stop-busy')).code).toBe('E_CANCELLED');
    expect((await status()).running).toBe(true);
  });
});

describe('bad input: refused with a clear error, the agent stays up and the game keeps serving', () => {
  let treeBefore: string[];
  let servingPid: number | undefined;

  beforeAll(async () => {
    treeBefore = await listTree(world.root);
    servingPid = (await status()).pid;
  });

  it('closes a connection that never handshakes, at the handshake deadline', async () => {
    const { reply, ms } = await rawExchange(agent.port);
    expect([undefined, 'E_TIMEOUT']).toContain(plainErrorCode(reply));
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(10_000);
  });

  it('refuses a wrong secret', async () => {
    await expect(
      AgentClient.connect(agent.port, { secret: 'not-the-secret-0123456789' }),
    ).rejects.toMatchObject({
      code: 'E_AUTH_FAILED',
    });
  });

  it('refuses garbage bytes and an oversize frame', async () => {
    const garbage = await rawExchange(agent.port, Buffer.from('\x00\x00\x00\x10\x7fGET / HTTP/1.1\r\n'));
    expect(plainErrorCode(garbage.reply)).toMatch(/^E_(UNKNOWN_TYPE|BAD_JSON|BAD_MESSAGE|UNEXPECTED)$/);
    const oversize = Buffer.alloc(5);
    oversize.writeUInt32BE(0x7fffffff, 0);
    expect(plainErrorCode((await rawExchange(agent.port, oversize)).reply)).toBe('E_FRAME_TOO_LARGE');
  });

  it.each([
    ['tampered', 'E_BAD_MAC', (_all: Buffer[], i: number, f: Buffer) => (i === 2 ? [flipLast(f)] : [f])],
    ['replayed', 'E_REPLAY', (_all: Buffer[], i: number, f: Buffer) => (i === 2 ? [f, f] : [f])],
    [
      'reordered',
      'E_SEQUENCE',
      (all: Buffer[], i: number, f: Buffer) => (i === 2 ? [] : i === 3 ? [f, all[2] as Buffer] : [f]),
    ],
  ])('ends a session with a %s frame (%s)', async (_name, code, rewrite) => {
    const proxy = await startFrameProxy(agent.port, rewrite);
    try {
      const proxied = await AgentClient.connect(proxy.port);
      void proxied.send({ type: 'STATUS' }).catch(() => undefined);
      void proxied.send({ type: 'STATUS' }).catch(() => undefined);
      expect(await proxied.session.closed).toMatchObject({ code });
    } finally {
      await proxy.close();
    }
  });

  it('answers an unknown action, bad params, an unknown instance and an unknown game with RESULT errors; the session stays up', async () => {
    expect(errorOf(await client.job('bad-action', 'reboot', { instance: 'alpha' })).code).toBe(
      'E_UNKNOWN_ACTION',
    );
    expect(
      errorOf(
        await client.job('bad-params', 'install', {
          instance: 'alpha',
          urls: ['file:///etc/passwd'],
          sha256: 'xyz',
          version: '../x',
        }),
      ).code,
    ).toBe('E_BAD_PARAMS');
    expect(errorOf(await client.job('bad-instance', 'start', { instance: '../../etc' })).code).toBe(
      'E_UNKNOWN_INSTANCE',
    );
    expect(errorOf(await client.job('bad-game', 'start', { instance: 'ghost' })).code).toBe('E_UNKNOWN_GAME');
    const pkg = world.pkg('1.1.0', 'tar.gz');
    const wrongGame = {
      instance: 'alpha',
      urls: [pkg.url],
      sha256: pkg.sha256,
      version: '9.9.9',
      game: 'quake9',
    };
    expect(errorOf(await client.job('bad-game-2', 'install', wrongGame)).code).toBe('E_UNKNOWN_GAME');
    expect(
      errorOf(
        await client.job('wrong-role', 'stage', {
          url: pkg.url,
          sha256: pkg.sha256,
          game: 'demo',
          version: '1',
          file: 'x.tar.gz',
        }),
      ).code,
    ).toBe('E_WRONG_ROLE');
    expect((await client.status()).hostId).toBe('host-1');
  });

  it('refuses a command string where an action belongs (E_BAD_MESSAGE, session closed); nothing runs', async () => {
    const { reply, closed } = await sendUncheckedJob(agent.port, AGENT_SECRET, {
      jobId: 'shell-1',
      action: 'start; rm -rf /',
      params: { instance: 'alpha' },
    });
    expect(closed).toBe(true);
    expect(reply).toMatchObject({ type: 'ERROR', code: 'E_BAD_MESSAGE' });
    // Never journalled, so never run: the id is unknown.
    await client.send({ type: 'ATTACH', jobId: 'shell-1' });
    expect(errorOf(await client.outcome('shell-1')).code).toBe('E_UNKNOWN_JOB');
  });

  it.each(hostile.map((h) => [h.name, h] as const))(
    'refuses a malicious archive: %s',
    async (_name, archive) => {
      const outcome = await client.job(`hostile-${archive.file}`, 'install', {
        instance: 'alpha',
        urls: [world.good.url(archive.file)],
        sha256: sha256(archive.bytes),
        version: `evil-${archive.file.replace(/\D/g, '')}`,
      });
      expect(errorOf(outcome).code).toBe(archive.code);
    },
  );

  it('refuses an archive bomb past the size cap', async () => {
    const outcome = await client.job('bomb', 'install', {
      instance: 'alpha',
      urls: [world.good.url('bomb.tar.gz')],
      sha256: sha256(bomb),
      version: 'bomb',
    });
    expect(errorOf(outcome).code).toBe('E_ARCHIVE_TOO_LARGE');
  });

  it('refuses a download whose hash does not match', async () => {
    const pkg = world.pkg('1.1.0', 'tar.gz');
    const outcome = await client.job('hash', 'install', {
      instance: 'alpha',
      urls: [pkg.url],
      sha256: world.pkg('1.0.0', 'tar.gz').sha256,
      version: 'hash-test',
    });
    expect(errorOf(outcome).code).toBe('E_HASH_MISMATCH');
  });

  it('resumes from an origin that drops mid-download once, and fails clearly when the origin dies for good', async () => {
    const pkg = world.pkg('1.1.0', 'tar.bz2');
    const bytes = await readFile(pkg.file);
    const flaky = await startOrigin(new Map([[pkg.name, bytes]]), {
      dropAfter: Math.floor(pkg.size / 2),
      dropTimes: 1,
    });
    try {
      const resumed = await client.job('flaky', 'install', {
        instance: 'alpha',
        urls: [flaky.url(pkg.name)],
        sha256: pkg.sha256,
        version: 'flaky',
      });
      expect(okResult(resumed)).toMatchObject({ version: 'flaky' });
      expect(flaky.requests.some((r) => r.status === 206)).toBe(true);
    } finally {
      await flaky.close();
    }
    const dying = await startDyingOrigin(bytes);
    const died = await client.job('dying', 'install', {
      instance: 'alpha',
      urls: [dying],
      sha256: pkg.sha256,
      version: 'dying',
    });
    const error = errorOf(died);
    expect(error.code).toMatch(/^E_(DOWNLOAD|ALL_ORIGINS_FAILED)$/);
    expect(error.message).toContain('127.0.0.1');
  });

  it('is still up: a new session gets STATUS, the same game server still answers, nothing was written outside the instance', async () => {
    const fresh = await AgentClient.connect(agent.port);
    try {
      expect((await fresh.status()).hostId).toBe('host-1');
      expect(await status(fresh)).toMatchObject({
        running: true,
        pid: servingPid,
        version: '1.0.0',
        query: { ok: true },
      });
    } finally {
      await fresh.close();
    }
    const outside = (await listTree(world.root)).filter(
      (path) =>
        !treeBefore.includes(path) &&
        !path.startsWith('data/journal/') &&
        !path.startsWith('data/instances/alpha/'),
    );
    expect(outside).toEqual([]);
    const releases = await listTree(join(world.dataDir, 'instances', 'alpha', 'releases'));
    expect(releases.filter((p) => /evil|bomb|hash-test|dying/.test(p))).toEqual([]);
  });
});

describe('agent restarts', () => {
  it('killed with SIGKILL mid-job and started again: re-adopts the game server and answers for its jobs', async () => {
    const before = await status();
    expect(before.running).toBe(true);
    await writeControl(world.control, 2, 'mp_crash');
    await client.send({
      type: 'JOB',
      jobId: 'cut-off',
      action: 'stop',
      params: { instance: 'alpha', drain: { timeoutSec: 60 } },
    });
    await client.waitFor('cut-off', (m) => m.type === 'PROGRESS' && m.phase === 'drain');

    agent.child.kill('SIGKILL');
    await agent.exited;
    expect(processAlive(before.pid as number)).toBe(true);

    agent = await spawnAgent(configFile);
    client = await AgentClient.connect(agent.port);
    const after = await status();
    expect(after).toMatchObject({ running: true, pid: before.pid, adopted: true, version: '1.0.0' });
    expect(after.query).toMatchObject({ ok: true, players: 2, map: 'mp_crash' });

    // A completed job sent again: ACK duplicate and its recorded RESULT, not a second run.
    const again = await client.job('install-gz', 'install', { instance: 'alpha' });
    expect(again.ack?.status).toBe('duplicate');
    expect(okResult(again)).toMatchObject({ version: '1.0.0', reused: false });
    // The job the crash cut off: failed with a clear reason, never re-run.
    const cut = await client.job('cut-off', 'stop', { instance: 'alpha', drain: { timeoutSec: 60 } });
    expect(cut.ack?.status).toBe('duplicate');
    const error = errorOf(cut);
    expect(error.code).toBe('E_AGENT_RESTARTED');
    expect(error.message).toContain('not completed');
    await client.send({ type: 'ATTACH', jobId: 'cut-off' });
    await client.waitFor('cut-off', (m) => m.type === 'RESULT' && m !== cut.result);
    expect((await status()).pid).toBe(before.pid);

    // The adopted server is still ours to stop.
    await writeControl(world.control, 0);
    const stopped = okResult<{ wasRunning: boolean }>(
      await client.job('stop-adopted', 'stop', { instance: 'alpha' }),
    );
    expect(stopped.wasRunning).toBe(true);
    expect(processAlive(before.pid as number)).toBe(false);
    const restarted = okResult<{ pid: number }>(
      await client.job('start-again', 'start', { instance: 'alpha' }),
    );
    gamePids.add(restarted.pid);
  });

  it('stops on SIGTERM with exit code 0 and leaves the game server running for the next agent', async () => {
    const before = await status();
    await client.close();
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(processAlive(before.pid as number)).toBe(true);
    agent = await spawnAgent(configFile);
    client = await AgentClient.connect(agent.port);
    expect(await status()).toMatchObject({ running: true, pid: before.pid, adopted: true });
  });

  it.runIf(process.getuid?.() === 0)(
    'refuses to run game servers as root unless the config allows it',
    async () => {
      await client.close();
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      const strictFile = await writeAgentConfig(
        join(world.root, 'strict'),
        world.config({ allowRoot: false }),
      );
      agent = await spawnAgent(strictFile);
      client = await AgentClient.connect(agent.port);
      // The running server is adopted, not killed; a new start is refused.
      okResult(await client.job('strict-stop', 'stop', { instance: 'alpha' }));
      const refused = errorOf(await client.job('strict-start', 'start', { instance: 'alpha' }));
      expect(refused.code).toBe('E_RUN_AS_ROOT');
      expect(refused.message).toContain('allowRoot');
    },
  );
});

describe('origin role', () => {
  it('stages a package: fetched, verified and published under the web root', async () => {
    const originData = join(world.root, 'origin');
    const webRoot = join(originData, 'www');
    const file = await writeAgentConfig(
      originData,
      world.config({
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
      const pkg = world.pkg('1.0.0', 'tar.gz');
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
