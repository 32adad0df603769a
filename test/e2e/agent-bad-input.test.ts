import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFrameProxy } from '../../protocol/test-support.js';
import { listTree } from '../helpers/agent-fixture.js';
import { AGENT_SECRET, AgentClient, errorOf, okResult } from '../helpers/agent-process.js';
import { type AgentSession, startAgentSession } from '../helpers/agent-session.js';
import { gzip, hostileArchives, zeroBomb } from '../helpers/archives.js';
import { startOrigin } from '../helpers/http-origin.js';
import {
  plainErrorCode,
  rawExchange,
  sendUncheckedJob,
  startDyingOrigin,
} from '../helpers/raw-agent-client.js';

/**
 * A real `gsm agent` process serving demo 1.0.0, fed what a broken or hostile peer sends:
 * silence, a wrong secret, garbage and oversize frames, tampered and replayed frames, bad
 * jobs, hostile archives, an archive bomb, a wrong hash, origins that drop or die. Each is
 * refused with a clear error; the agent stays up, the game keeps serving, and nothing is
 * written outside the instance.
 */
let session: AgentSession;

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

beforeAll(async () => {
  session = await startAgentSession(
    new Map<string, Buffer>([...hostile.map((h) => [h.file, h.bytes] as const), ['bomb.tar.gz', bomb]]),
  );
  const pkg = session.world.pkg('1.0.0', 'tar.gz');
  okResult(
    await session.client.job('install-1.0.0', 'install', {
      instance: 'alpha',
      urls: [pkg.url],
      sha256: pkg.sha256,
      version: '1.0.0',
    }),
  );
  const started = okResult<{ pid: number }>(
    await session.client.job('switch-1.0.0', 'switch', { instance: 'alpha', version: '1.0.0' }),
  );
  session.gamePids.add(started.pid);
}, 60_000);

afterAll(async () => {
  await session?.close();
});

describe('bad input: refused with a clear error, the agent stays up and the game keeps serving', () => {
  let treeBefore: string[];
  let servingPid: number | undefined;

  beforeAll(async () => {
    treeBefore = await listTree(session.world.root);
    servingPid = (await session.status()).pid;
  });

  it('closes a connection that never handshakes, at the handshake deadline', async () => {
    const { reply, ms } = await rawExchange(session.agent.port);
    expect([undefined, 'E_TIMEOUT']).toContain(plainErrorCode(reply));
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(10_000);
  });

  it('refuses a wrong secret', async () => {
    await expect(
      AgentClient.connect(session.agent.port, { secret: 'not-the-secret-0123456789' }),
    ).rejects.toMatchObject({
      code: 'E_AUTH_FAILED',
    });
  });

  it('refuses garbage bytes and an oversize frame', async () => {
    const garbage = await rawExchange(
      session.agent.port,
      Buffer.from('\x00\x00\x00\x10\x7fGET / HTTP/1.1\r\n'),
    );
    expect(plainErrorCode(garbage.reply)).toMatch(/^E_(UNKNOWN_TYPE|BAD_JSON|BAD_MESSAGE|UNEXPECTED)$/);
    const oversize = Buffer.alloc(5);
    oversize.writeUInt32BE(0x7fffffff, 0);
    expect(plainErrorCode((await rawExchange(session.agent.port, oversize)).reply)).toBe('E_FRAME_TOO_LARGE');
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
    const proxy = await startFrameProxy(session.agent.port, rewrite);
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
    expect(errorOf(await session.client.job('bad-action', 'reboot', { instance: 'alpha' })).code).toBe(
      'E_UNKNOWN_ACTION',
    );
    expect(
      errorOf(
        await session.client.job('bad-params', 'install', {
          instance: 'alpha',
          urls: ['file:///etc/passwd'],
          sha256: 'xyz',
          version: '../x',
        }),
      ).code,
    ).toBe('E_BAD_PARAMS');
    expect(errorOf(await session.client.job('bad-instance', 'start', { instance: '../../etc' })).code).toBe(
      'E_UNKNOWN_INSTANCE',
    );
    expect(errorOf(await session.client.job('bad-game', 'start', { instance: 'ghost' })).code).toBe(
      'E_UNKNOWN_GAME',
    );
    const pkg = session.world.pkg('1.1.0', 'tar.gz');
    const wrongGame = {
      instance: 'alpha',
      urls: [pkg.url],
      sha256: pkg.sha256,
      version: '9.9.9',
      game: 'quake9',
    };
    expect(errorOf(await session.client.job('bad-game-2', 'install', wrongGame)).code).toBe('E_UNKNOWN_GAME');
    expect(
      errorOf(
        await session.client.job('wrong-role', 'stage', {
          url: pkg.url,
          sha256: pkg.sha256,
          game: 'demo',
          version: '1',
          file: 'x.tar.gz',
        }),
      ).code,
    ).toBe('E_WRONG_ROLE');
    expect((await session.client.status()).hostId).toBe('host-1');
  });

  it('refuses a command string where an action belongs (E_BAD_MESSAGE, session closed); nothing runs', async () => {
    const { reply, closed } = await sendUncheckedJob(session.agent.port, AGENT_SECRET, {
      jobId: 'shell-1',
      action: 'start; rm -rf /',
      params: { instance: 'alpha' },
    });
    expect(closed).toBe(true);
    expect(reply).toMatchObject({ type: 'ERROR', code: 'E_BAD_MESSAGE' });
    // Never journalled, so never run: the id is unknown.
    await session.client.send({ type: 'ATTACH', jobId: 'shell-1' });
    expect(errorOf(await session.client.outcome('shell-1')).code).toBe('E_UNKNOWN_JOB');
  });

  it.each(hostile.map((h) => [h.name, h] as const))(
    'refuses a malicious archive: %s',
    async (_name, archive) => {
      const outcome = await session.client.job(`hostile-${archive.file}`, 'install', {
        instance: 'alpha',
        urls: [session.world.good.url(archive.file)],
        sha256: sha256(archive.bytes),
        version: `evil-${archive.file.replace(/\D/g, '')}`,
      });
      expect(errorOf(outcome).code).toBe(archive.code);
    },
  );

  it('refuses an archive bomb past the size cap', async () => {
    const outcome = await session.client.job('bomb', 'install', {
      instance: 'alpha',
      urls: [session.world.good.url('bomb.tar.gz')],
      sha256: sha256(bomb),
      version: 'bomb',
    });
    expect(errorOf(outcome).code).toBe('E_ARCHIVE_TOO_LARGE');
  });

  it('refuses a download whose hash does not match', async () => {
    const pkg = session.world.pkg('1.1.0', 'tar.gz');
    const outcome = await session.client.job('hash', 'install', {
      instance: 'alpha',
      urls: [pkg.url],
      sha256: session.world.pkg('1.0.0', 'tar.gz').sha256,
      version: 'hash-test',
    });
    expect(errorOf(outcome).code).toBe('E_HASH_MISMATCH');
  });

  it('resumes from an origin that drops mid-download once, and fails clearly when the origin dies for good', async () => {
    const pkg = session.world.pkg('1.1.0', 'tar.bz2');
    const bytes = await readFile(pkg.file);
    const flaky = await startOrigin(new Map([[pkg.name, bytes]]), {
      dropAfter: Math.floor(pkg.size / 2),
      dropTimes: 1,
    });
    try {
      const resumed = await session.client.job('flaky', 'install', {
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
    const died = await session.client.job('dying', 'install', {
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
    const fresh = await AgentClient.connect(session.agent.port);
    try {
      expect((await fresh.status()).hostId).toBe('host-1');
      expect(await session.status(fresh)).toMatchObject({
        running: true,
        pid: servingPid,
        version: '1.0.0',
        query: { ok: true },
      });
    } finally {
      await fresh.close();
    }
    const outside = (await listTree(session.world.root)).filter(
      (path) =>
        !treeBefore.includes(path) &&
        !path.startsWith('data/journal/') &&
        !path.startsWith('data/instances/alpha/'),
    );
    expect(outside).toEqual([]);
    const releases = await listTree(join(session.world.dataDir, 'instances', 'alpha', 'releases'));
    expect(releases.filter((p) => /evil|bomb|hash-test|dying/.test(p))).toEqual([]);
  });
});
