import { existsSync } from 'node:fs';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
import { isProcessError } from './errors.js';
import { readPidFile } from './pid-file.js';
import { readProcStat } from './proc.js';
import type { Supervisor } from './supervisor.js';
import { demoLaunch, demoSupervisor, recordEvents, runDirOf, waitFor } from './testing.js';

let root: string;
let release: DemoRelease;
let control: string;
const supervisors: Supervisor[] = [];

beforeAll(async () => {
  root = await tempDir('gsm-supervisor-');
  release = await extractDemoRelease(root, '1.0.0');
  control = join(root, 'control.json');
  await writeControl(control, 4, 'mp_vacant');
  return () => rm(root, { recursive: true, force: true });
});

afterEach(async () => {
  for (const s of supervisors.splice(0)) {
    s.kill();
    await s.stop({ graceMs: 500 });
  }
});

let counter = 0;
const setup = async (overrides: Parameters<typeof demoSupervisor>[1] = {}) => {
  const runDir = runDirOf(join(root, `case-${++counter}`));
  const supervisor = demoSupervisor(runDir, overrides);
  supervisors.push(supervisor);
  const port = await freeUdpPort();
  return { supervisor, runDir, port, launch: demoLaunch(release.dir, port, control) };
};

const logOf = (s: Supervisor) => readFile(s.logFile, 'utf8');

describe('Supervisor', () => {
  it('refuses to run a game server as root unless allowRoot is set', async () => {
    // Prepare: tests run as root, so allowRoot false must refuse
    const { supervisor, launch } = await setup({ allowRoot: false });

    // Act
    const error = await supervisor.start(launch).catch((e: unknown) => e);

    // Assess
    expect(isProcessError(error, 'E_RUN_AS_ROOT')).toBe(true);
    expect(supervisor.state).toBe('offline');
    expect(existsSync(supervisor.pidFile)).toBe(false);
  });

  it('runs the game as the configured user without allowRoot', async () => {
    // The unprivileged game must be able to reach its release folder (mkdtemp makes it 0700)
    await chmod(root, 0o755);
    const { supervisor, launch, port } = await setup({ allowRoot: false, user: { uid: 65534, gid: 65534 } });
    const { pid } = await supervisor.start(launch);
    await waitFor(() => queryGame(demo, { host: '127.0.0.1', port, timeoutMs: 300 }).catch(() => undefined));
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+65534\s/m);
  });

  it('starts the demo game in its own process group, answers queries, and writes a pid file with its start time', async () => {
    // Prepare
    const { supervisor, launch, port } = await setup();
    const events = recordEvents(supervisor);

    // Act
    const { pid } = await supervisor.start(launch);
    const status = await waitFor(() =>
      queryGame(demo, { host: '127.0.0.1', port, timeoutMs: 300 }).catch(() => undefined),
    );

    // Assess
    expect(status).toMatchObject({ players: 4, map: 'mp_vacant', version: '1.0.0' });
    const stat = await readProcStat(pid);
    expect(stat?.pgrp).toBe(pid);
    const pidFile = await readPidFile(supervisor.pidFile);
    expect(pidFile.kind === 'ok' && pidFile.record).toMatchObject({ pid, startTime: stat?.startTime });
    expect(supervisor.status()).toMatchObject({ state: 'running', pid, adopted: false, restarts: 0 });
    expect(events.filter((e) => e.type === 'state').map((e) => e.type === 'state' && e.state)).toEqual([
      'starting',
      'running',
    ]);
    await waitFor(async () => (await logOf(supervisor)).includes('Server is ready'));
  });

  it('refuses a second start while running', async () => {
    const { supervisor, launch } = await setup();
    await supervisor.start(launch);
    const error = await supervisor.start(launch).catch((e: unknown) => e);
    expect(isProcessError(error, 'E_ALREADY_RUNNING')).toBe(true);
  });

  it('reports a missing executable as E_SPAWN_FAILED', async () => {
    const { supervisor, launch } = await setup();
    const error = await supervisor
      .start({ ...launch, executable: './no-such-game' })
      .catch((e: unknown) => e);
    expect(isProcessError(error, 'E_SPAWN_FAILED')).toBe(true);
    expect(supervisor.state).toBe('offline');
  });

  it('stops with the signal of the definition: clean exit, no kill, pid file removed', async () => {
    const { supervisor, launch } = await setup();
    await supervisor.start(launch);
    await waitFor(async () => (await logOf(supervisor)).includes('Server is ready'));

    const result = await supervisor.stop();

    expect(result).toMatchObject({ wasRunning: true, killed: false, exit: { code: 0 } });
    expect(supervisor.state).toBe('offline');
    expect(existsSync(supervisor.pidFile)).toBe(false);
    expect(await logOf(supervisor)).toContain('Server shutdown: SIGTERM');
  });

  it('stops with a console command written to the game stdin', async () => {
    const { supervisor, launch } = await setup({ stop: { kind: 'command', command: 'quit' } });
    await supervisor.start(launch);
    await waitFor(async () => (await logOf(supervisor)).includes('Server is ready'));

    const result = await supervisor.stop();

    expect(result).toMatchObject({ killed: false, exit: { code: 0 } });
    expect(await logOf(supervisor)).toContain('Server shutdown: quit');
  });

  it('kills the process group with SIGKILL when the grace period runs out', async () => {
    // The demo ignores SIGHUP, so a SIGHUP stop never finishes by itself
    const { supervisor, launch } = await setup({ stop: { kind: 'signal', signal: 'SIGHUP' } });
    await supervisor.start(launch);
    await waitFor(async () => (await logOf(supervisor)).includes('Server is ready'));

    const result = await supervisor.stop({ graceMs: 300 });

    expect(result).toMatchObject({ killed: true, exit: { signal: 'SIGKILL' } });
    expect(result.waitedMs).toBeGreaterThanOrEqual(300);
  });

  it('restarts a game killed with SIGKILL, with exponential backoff', async () => {
    // Prepare
    const { supervisor, launch, port } = await setup();
    const events = recordEvents(supervisor);
    const first = await supervisor.start(launch);

    // Act: kill -9 twice
    process.kill(first.pid, 'SIGKILL');
    const second = await waitFor(
      () => supervisor.state === 'running' && supervisor.pid !== first.pid && supervisor.pid,
    );
    process.kill(second, 'SIGKILL');
    const third = await waitFor(
      () => supervisor.state === 'running' && supervisor.pid !== second && supervisor.pid,
    );

    // Assess
    const delays = events.flatMap((e) => (e.type === 'restart-scheduled' ? [e.delayMs] : []));
    expect(delays).toEqual([100, 200]);
    expect(supervisor.status()).toMatchObject({ restarts: 2, crashLoop: false, pid: third });
    expect(supervisor.status().lastExit).toMatchObject({ signal: 'SIGKILL' });
    await waitFor(() => queryGame(demo, { host: '127.0.0.1', port, timeoutMs: 300 }).catch(() => undefined));
  });

  it('gives up after too many crashes in the window (crash loop)', async () => {
    // Prepare: a "game" that dies at once
    const { supervisor } = await setup({
      restart: { initialDelayMs: 10, maxDelayMs: 20, maxCrashes: 3, windowMs: 60_000 },
    });
    const events = recordEvents(supervisor);

    // Act
    await supervisor.start({ executable: 'node', args: ['-e', 'process.exit(3)'], cwd: release.dir });
    await waitFor(() => events.some((e) => e.type === 'crash-loop'), 5000, 'crash loop');

    // Assess
    expect(supervisor.status()).toMatchObject({ state: 'offline', crashLoop: true, restarts: 3 });
    expect(supervisor.status().lastExit).toMatchObject({ code: 3 });
    expect(events.filter((e) => e.type === 'exit')).toHaveLength(4);
  });

  it('does not restart a game that exits 0 by itself', async () => {
    const { supervisor, launch } = await setup();
    const events = recordEvents(supervisor);
    await supervisor.start(launch);
    await waitFor(async () => (await logOf(supervisor)).includes('Server is ready'));
    supervisor.sendConsole('quit');
    await waitFor(() => supervisor.state === 'offline');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.some((e) => e.type === 'restart-scheduled')).toBe(false);
  });

  it('a stop cancels a pending crash restart', async () => {
    const { supervisor, launch } = await setup({ restart: { initialDelayMs: 300 } });
    const events = recordEvents(supervisor);
    const { pid } = await supervisor.start(launch);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => events.some((e) => e.type === 'restart-scheduled'));
    await supervisor.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(supervisor.state).toBe('offline');
    expect(supervisor.status().restarts).toBe(0);
  });

  it('restart stops and starts again with the same launch', async () => {
    const { supervisor, launch } = await setup();
    const first = await supervisor.start(launch);
    const second = await supervisor.restart();
    expect(second.pid).not.toBe(first.pid);
    expect(supervisor.state).toBe('running');
  });

  it('rotates an oversized console log by rename when the game starts', async () => {
    const { supervisor, launch, runDir } = await setup({ log: { maxBytes: 1000, keep: 2 } });
    await writeFile(join(runDir, 'placeholder'), '').catch(() => undefined);
    await supervisor.start(launch);
    await supervisor.stop();
    await writeFile(supervisor.logFile, `${'old line\n'.repeat(200)}`);

    await supervisor.start(launch);

    expect(await readFile(`${supervisor.logFile}.1`, 'utf8')).toContain('old line');
    expect(await logOf(supervisor)).not.toContain('old line');
  });

  it('rotates a running game log by copy and truncate, keeping N files', async () => {
    // Prepare
    const { supervisor, launch } = await setup({ log: { maxBytes: 2000, keep: 2, checkIntervalMs: 30 } });
    const events = recordEvents(supervisor);
    await supervisor.start(launch);
    await waitFor(async () => (await logOf(supervisor)).includes('Server is ready'));

    // Act: the game prints whatever follows "say" on its console
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20; i++) supervisor.sendConsole(`say ${round}-${i} ${'x'.repeat(100)}`);
      const before = events.filter((e) => e.type === 'log-rotated').length;
      await waitFor(() => events.filter((e) => e.type === 'log-rotated').length > before, 3000, 'rotation');
    }
    supervisor.sendConsole('say after rotation');
    await waitFor(async () => (await logOf(supervisor)).includes('after rotation'));

    // Assess
    expect(existsSync(`${supervisor.logFile}.1`)).toBe(true);
    expect(existsSync(`${supervisor.logFile}.2`)).toBe(true);
    expect(existsSync(`${supervisor.logFile}.3`)).toBe(false);
    const live = await readFile(supervisor.logFile);
    expect(live.length).toBeLessThan(2000);
    expect(live.includes(0)).toBe(false);
  });
});
