import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DemoRelease,
  extractDemoRelease,
  freeUdpPort,
  tempDir,
  writeControl,
} from '../../local/demo-game/harness.js';
import { demo } from '../games/demo.js';
import { queryGame } from '../games/query.js';
import { readPidFile, writePidFile } from './pid-file.js';
import { identify, readBootId } from './proc.js';
import type { Supervisor } from './supervisor.js';
import { demoLaunch, demoSupervisor, recordEvents, runDirOf, waitFor } from './testing.js';

const FAKE_AGENT = fileURLToPath(new URL('./fake-agent.fixture.ts', import.meta.url));

let root: string;
let release: DemoRelease;
let control: string;
const supervisors: Supervisor[] = [];
const strays: number[] = [];

beforeAll(async () => {
  root = await tempDir('gsm-adopt-');
  release = await extractDemoRelease(root, '1.0.0');
  control = join(root, 'control.json');
  await writeControl(control, 2, 'mp_citystreets');
  return () => rm(root, { recursive: true, force: true });
});

afterEach(async () => {
  for (const s of supervisors.splice(0)) {
    s.kill();
    await s.stop({ graceMs: 500 });
  }
  for (const pid of strays.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});

let counter = 0;
const newRunDir = () => runDirOf(join(root, `case-${++counter}`));
const track = (s: Supervisor): Supervisor => {
  supervisors.push(s);
  return s;
};
const answers = (port: number) =>
  waitFor(() => queryGame(demo, { host: '127.0.0.1', port, timeoutMs: 300 }).catch(() => undefined));

/** Runs the fake agent, waits for the game it started, and returns both pids. */
const runFakeAgent = async (runDir: string, port: number): Promise<{ agentPid: number; gamePid: number }> => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', FAKE_AGENT, runDir, release.dir, String(port), control],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const gamePid = await waitFor(
    () => Number(/READY (\d+)/.exec(out)?.[1]) || undefined,
    15_000,
    'fake agent',
  );
  strays.push(gamePid);
  if (child.pid === undefined) throw new Error('fake agent has no pid');
  return { agentPid: child.pid, gamePid };
};

describe('adoption after an agent restart', () => {
  it('re-attaches to the game server left running by an agent killed with SIGKILL', async () => {
    // Prepare
    const runDir = newRunDir();
    const port = await freeUdpPort();
    const { agentPid, gamePid } = await runFakeAgent(runDir, port);

    // Act: kill -9 the agent, then a new agent adopts
    process.kill(agentPid, 'SIGKILL');
    await answers(port);
    const supervisor = track(demoSupervisor(runDir));
    const result = await supervisor.adopt();

    // Assess
    expect(result).toEqual({ adopted: true, pid: gamePid });
    expect(supervisor.status()).toMatchObject({ state: 'running', pid: gamePid, adopted: true });
    expect(await answers(port)).toMatchObject({ players: 2, map: 'mp_citystreets' });
    const again = await supervisor.start(demoLaunch(release.dir, port, control)).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'E_ALREADY_RUNNING' });
  });

  it('stops an adopted game with SIGTERM even when the definition stops by console command', async () => {
    // Prepare: agent one starts, then lets go (agent shutdown)
    const runDir = newRunDir();
    const port = await freeUdpPort();
    const first = demoSupervisor(runDir, { stop: { kind: 'command', command: 'quit' } });
    const { pid } = await first.start(demoLaunch(release.dir, port, control));
    await answers(port);
    first.detach();

    // Act
    const second = track(demoSupervisor(runDir, { stop: { kind: 'command', command: 'quit' } }));
    expect(await second.adopt()).toEqual({ adopted: true, pid });
    const stopped = await second.stop({ graceMs: 3000 });

    // Assess
    expect(stopped).toMatchObject({ wasRunning: true, killed: false, exit: { adopted: true } });
    expect(second.state).toBe('offline');
    expect(existsSync(second.pidFile)).toBe(false);
    await waitFor(() => !existsSync(`/proc/${pid}`) || undefined, 3000, 'process gone').catch(
      () => undefined,
    );
  });

  it('notices an adopted game crashing and restarts it from the launch in the pid file', async () => {
    const runDir = newRunDir();
    const port = await freeUdpPort();
    const first = demoSupervisor(runDir);
    const { pid } = await first.start(demoLaunch(release.dir, port, control));
    first.detach();
    const second = track(demoSupervisor(runDir));
    const events = recordEvents(second);
    await second.adopt();

    process.kill(pid, 'SIGKILL');
    const next = await waitFor(() => second.state === 'running' && second.pid !== pid && second.pid);

    expect(events.some((e) => e.type === 'exit' && !e.expected && e.exit.adopted)).toBe(true);
    expect(next).not.toBe(pid);
    expect(await answers(port)).toMatchObject({ players: 2 });
  });

  it.each([
    {
      case: 'a live pid with another start time (recycled)',
      reason: 'recycled',
      pid: process.pid,
      startTime: '1',
    },
    { case: 'a pid that no longer exists', reason: 'gone', pid: 4_194_000, startTime: '1' },
    { case: 'a pid file from another boot', reason: 'other-boot', pid: process.pid, bootId: 'another-boot' },
  ])('refuses $case and removes the stale pid file', async ({ reason, pid, startTime, bootId }) => {
    // Prepare
    const runDir = newRunDir();
    await mkdir(runDir, { recursive: true });
    const self = await identify(process.pid);
    const supervisor = track(demoSupervisor(runDir));
    await writePidFile(supervisor.pidFile, {
      pid,
      startTime: startTime ?? self?.startTime ?? '0',
      bootId: bootId ?? (await readBootId()),
      startedAt: new Date().toISOString(),
      launch: { executable: 'node', args: [], cwd: release.dir, env: {} },
      logFile: supervisor.logFile,
    });

    // Act
    const result = await supervisor.adopt();

    // Assess
    expect(result).toEqual({ adopted: false, reason });
    expect(supervisor.state).toBe('offline');
    expect((await readPidFile(supervisor.pidFile)).kind).toBe('missing');
  });

  it('ignores a missing or unreadable pid file', async () => {
    const runDir = newRunDir();
    const supervisor = track(demoSupervisor(runDir));
    expect(await supervisor.adopt()).toEqual({ adopted: false, reason: 'no-pid-file' });
    await mkdir(runDir, { recursive: true });
    await writeFile(supervisor.pidFile, '{"pid": "1; rm -rf /"}');
    expect(await supervisor.adopt()).toEqual({ adopted: false, reason: 'invalid-pid-file' });
  });
});
