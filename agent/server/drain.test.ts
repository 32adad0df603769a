import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extractDemoRelease,
  freeUdpPort,
  type RunningDemo,
  runDemo,
  tempDir,
  writeControl,
} from '../../local/demo-game/harness.js';
import { demo } from '../games/demo.js';
import { isGameError } from '../games/errors.js';
import { drainPlayers } from './drain.js';

let root: string;
let server: RunningDemo;
let port: number;
let control: string;

beforeAll(async () => {
  root = await tempDir('gsm-drain-');
  const release = await extractDemoRelease(root, '1.0.0');
  control = join(root, 'control.json');
  port = await freeUdpPort();
  server = await runDemo(release.dir, ['--port', String(port), '--control', control]);
});

afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  await rm(root, { recursive: true, force: true });
});

const target = () => ({ host: '127.0.0.1', port });

describe('drainPlayers', () => {
  it('returns at once when the server is already empty', async () => {
    await writeControl(control, 0);
    const result = await drainPlayers(demo, target(), { intervalMs: 100, timeoutMs: 2000 });
    expect(result).toMatchObject({ drained: true, players: 0, polls: 1, aborted: false });
  });

  it('waits until the players leave (the control file changes mid-drain)', async () => {
    // Prepare
    await writeControl(control, 3);
    const seen: (number | undefined)[] = [];

    // Act
    const leaving = setTimeout(() => void writeControl(control, 0), 400);
    const result = await drainPlayers(demo, target(), {
      intervalMs: 100,
      timeoutMs: 5000,
      onPoll: (p) => seen.push(p.players),
    });
    clearTimeout(leaving);

    // Assess
    expect(result.drained).toBe(true);
    expect(result.players).toBe(0);
    expect(result.waitedMs).toBeGreaterThanOrEqual(300);
    expect(seen[0]).toBe(3);
    expect(seen.at(-1)).toBe(0);
  });

  it('gives up after the drain timeout with the players still on', async () => {
    await writeControl(control, 2);
    const result = await drainPlayers(demo, target(), { intervalMs: 100, timeoutMs: 500 });
    expect(result).toMatchObject({ drained: false, players: 2, aborted: false });
    expect(result.waitedMs).toBeGreaterThanOrEqual(500);
    // Bounds that tell "honoured the timeout" from "ignored it", loose enough for a loaded machine.
    expect(result.waitedMs).toBeLessThan(5000);
  });

  it('stops waiting when aborted', async () => {
    await writeControl(control, 2);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await drainPlayers(demo, target(), {
      intervalMs: 100,
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    expect(result).toMatchObject({ drained: false, aborted: true, players: 2 });
    expect(result.waitedMs).toBeLessThan(5000);
  });

  it('does not take a server that stops answering for an empty one', async () => {
    const silent = await freeUdpPort();
    const result = await drainPlayers(
      demo,
      { host: '127.0.0.1', port: silent },
      { intervalMs: 50, timeoutMs: 600, queryTimeoutMs: 200 },
    );
    expect(result.drained).toBe(false);
    expect(result.players).toBeUndefined();
    expect(isGameError(result.lastError, 'E_QUERY_TIMEOUT')).toBe(true);
  });

  it('ends at once for a game without a player query, instead of waiting out the timeout', async () => {
    const tcpOnly = { ...demo, health: { kind: 'tcp' as const, timeoutMs: 500 } };
    const polls: unknown[] = [];
    const result = await drainPlayers(tcpOnly, target(), {
      intervalMs: 50,
      timeoutMs: 60_000,
      onPoll: (poll) => polls.push(poll),
    });
    expect(result).toMatchObject({ drained: false, unsupported: true, aborted: false, polls: 1 });
    expect(result.players).toBeUndefined();
    expect(isGameError(result.lastError, 'E_QUERY_UNSUPPORTED')).toBe(true);
    expect(result.waitedMs).toBeLessThan(5000);
    expect(polls).toEqual([]);
  });
});
