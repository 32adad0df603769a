/**
 * What `npm start` promises (issue 5, "Done when"), on the real local stack in this process:
 * the relay, the download origin, 12 demo agents and a legacy host, driven by the real `gsm`
 * CLI run as a child process against `.gsm/dev.json`, and the demo games answered by a real
 * Quake 3 query.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo } from '../../agent/games/demo.js';
import { queryGame } from '../../agent/games/query.js';
import type { PublicHost } from '../../core/model/index.js';
import type { ActionDetail } from '../../functions/api/routes/actions.js';
import { DEMO_FAULT_HOST, type DemoFleet } from '../../local/demo/index.js';
import { type DevStack, startDevStack } from '../../local/dev.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const GSM = ['--import', TSX, join(ROOT, 'cli/entry.ts')];

let cwd: string;
let stack: DevStack;
let fleet: DemoFleet;

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const gsm = (...args: string[]): Promise<CliRun> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [...GSM, ...args],
      { cwd, env: { ...process.env, GSM_ENDPOINT: '', GSM_API_KEY: '' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${stack.endpoints.api}${path}`, {
    headers: { authorization: `Bearer ${stack.endpoints.apiKey}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};

const eventually = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

/** The newest action: what the CLI just ran. */
const lastAction = async (): Promise<ActionDetail> => {
  const page = await api<{ items: { id: string }[] }>('/v1/actions?limit=1');
  return api<ActionDetail>(`/v1/actions/${page.items[0]?.id}`);
};

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'gsm-dev-fleet-'));
  stack = await startDevStack({ port: 0, cwd, logLevel: 'silent' });
  fleet = stack.fleet as DemoFleet;
  const report = await fleet.installed;
  expect(report.failed).toEqual([]);
  expect(report.ready).toHaveLength(12);
}, 90_000);

afterAll(async () => {
  await stack?.close();
  await rm(cwd, { recursive: true, force: true });
}, 30_000);

describe('npm start: the demo fleet', () => {
  it('reports 12 demo hosts online with their demo instance and game port, one tagged fault=health', async () => {
    const hosts = await eventually('12 demo hosts online', async () => {
      const page = await api<{ items: PublicHost[] }>('/v1/hosts?tag=group=demo&limit=100');
      return page.items.length === 12 && page.items.every((h) => h.status === 'online')
        ? page.items
        : undefined;
    });

    expect(hosts.map((h) => h.id)).toEqual(fleet.hosts.map((h) => h.id));
    for (const host of hosts) {
      const ours = fleet.hosts.find((h) => h.id === host.id);
      expect(host).toMatchObject({ address: '127.0.0.1', port: ours?.port, tags: { group: 'demo' } });
      expect(host.instances).toEqual([
        expect.objectContaining({ name: 'demo', game: 'demo', port: ours?.gamePort }),
      ]);
    }
    expect(hosts.filter((h) => h.tags.fault === 'health').map((h) => h.id)).toEqual([DEMO_FAULT_HOST]);
    expect(new Set(hosts.map((h) => h.tags.region))).toEqual(new Set(['eu', 'us']));
  });

  it('starts the demo game on every demo host with `gsm action start --wait`, and each answers a Quake 3 query', async () => {
    const run = await gsm('action', 'start', '--target', 'group=demo', '--wait');

    expect(run.code, run.stderr).toBe(0);
    const answers = await Promise.all(
      fleet.hosts.map((host) => queryGame(demo, { host: '127.0.0.1', port: host.gamePort, timeoutMs: 2000 })),
    );
    for (const answer of answers) expect(answer).toMatchObject({ maxPlayers: expect.any(Number) });
  });

  it('counts a host whose agent is down as an error while the other 11 finish', async () => {
    const down = fleet.hosts[11];
    await down?.stopAgent();

    const run = await gsm(
      'action',
      'status',
      '--target',
      'group=demo',
      '--wait',
      '--max-errors',
      '1',
      '--job-timeout',
      '4',
    );

    const action = await lastAction();
    expect(action).toMatchObject({ action: 'status', state: 'succeeded' });
    expect(action.counters).toMatchObject({ total: 12, succeeded: 11 });
    const failed = action.jobs.filter((j) => j.state !== 'succeeded');
    expect(failed.map((j) => [j.hostId, j.state])).toEqual([
      [down?.id, expect.stringMatching(/failed|timed_out/)],
    ]);
    // --wait exits 0 only when every host succeeded, and names the failure.
    expect(run.code).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain(down?.id);
  });

  it('keeps an agent fed garbage up: it answers the next status', async () => {
    const host = fleet.hosts[0];
    await new Promise<void>((done) => {
      const socket = net.connect(host?.port ?? 0, '127.0.0.1', () => {
        socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\xff\xfe garbage garbage garbage'));
      });
      socket.on('error', () => done());
      socket.on('close', () => done());
      setTimeout(() => socket.destroy(), 2000);
    });

    const run = await gsm('action', 'status', '--target', host?.id ?? '', '--wait');

    expect(run.code, run.stderr).toBe(0);
    expect((await lastAction()).jobs).toEqual([
      expect.objectContaining({ hostId: host?.id, state: 'succeeded' }),
    ]);
  });

  it('drives the legacy host with st and sp', async () => {
    const started = await gsm('action', 'start', '--target', 'group=legacy', '--wait');
    const stopped = await gsm('action', 'stop', '--target', 'group=legacy', '--wait');

    expect(started.code, started.stderr).toBe(0);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(fleet.legacy.agent.commands.map((c) => c.command)).toEqual(['st', 'sp']);
  });
});
