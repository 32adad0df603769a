import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extractDemoRelease,
  freeTcpPort,
  freeUdpPort,
  type RunningDemo,
  runDemo,
  tempDir,
  writeControl,
} from '../../local/demo-game/harness.js';
import type { GameDefinition } from './definitions.js';
import { demo } from './demo.js';
import { isGameError } from './errors.js';
import { checkHealth, queryGame } from './query.js';

let root: string;
let server: RunningDemo;
let port: number;
let control: string;

beforeAll(async () => {
  root = await tempDir('gsm-query-');
  const release = await extractDemoRelease(root, '1.0.0');
  control = join(root, 'control.json');
  await writeControl(control, 5, 'mp_overgrown');
  port = await freeUdpPort();
  server = await runDemo(release.dir, ['--port', String(port), '--control', control, '--maxplayers', '24']);
});

afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  await rm(root, { recursive: true, force: true });
});

const tcpGame: GameDefinition = { ...demo, health: { kind: 'tcp', timeoutMs: 500 } };

describe('queryGame', () => {
  it('reads name, map, players and max players over a real Quake 3 query', async () => {
    const status = await queryGame(demo, { host: '127.0.0.1', port });
    expect(status).toMatchObject({
      name: 'gsm demo server',
      map: 'mp_overgrown',
      players: 5,
      maxPlayers: 24,
    });
    expect(status.ping).toBeGreaterThanOrEqual(0);
  });

  it('fails with E_QUERY_TIMEOUT when nothing answers, within the timeout', async () => {
    const silent = await freeUdpPort();
    const started = Date.now();
    const error = await queryGame(demo, { host: '127.0.0.1', port: silent, timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(isGameError(error, 'E_QUERY_TIMEOUT')).toBe(true);
    // The timeout was honoured (nothing waits for gamedig's own multi-second default).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a definition without a game query with E_QUERY_UNSUPPORTED', async () => {
    const error = await queryGame(tcpGame, { host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(isGameError(error, 'E_QUERY_UNSUPPORTED')).toBe(true);
  });
});

describe('checkHealth', () => {
  it('returns the query status for a gamedig game', async () => {
    await expect(checkHealth(demo, { host: '127.0.0.1', port })).resolves.toMatchObject({ players: 5 });
  });

  it('checks that a TCP port accepts for a tcp game, and fails typed when it does not', async () => {
    const open = await freeTcpPort();
    const listener: Server = createServer((s) => s.end());
    await new Promise<void>((resolve) => listener.listen(open, '127.0.0.1', resolve));
    try {
      await expect(checkHealth(tcpGame, { host: '127.0.0.1', port: open })).resolves.toBeUndefined();
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
    const closed = await freeTcpPort();
    const error = await checkHealth(tcpGame, { host: '127.0.0.1', port: closed }).catch((e: unknown) => e);
    expect(isGameError(error, 'E_QUERY_FAILED')).toBe(true);
  });
});
