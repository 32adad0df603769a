/**
 * A release on the real local stack (`gsm dev` in this process): the relay, the demo download
 * origin and 12 real demo agents that run demo 1.0.0. The healthy demo 1.1.0 build goes through
 * `gsm package push` (intake, staging to the demo origin), then `POST /v1/releases` ships it in
 * waves through the release workflow and the relay to every `group=demo` host.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { Package, Release } from '../../core/model/index.js';
import type { ReleaseDetail } from '../../functions/api/routes/releases.js';
import { DEMO_FAULT_HOST, DEMO_NEXT_VERSION, type DemoFleet } from '../../local/demo/index.js';
import { buildDemoPackages } from '../../local/demo-game/build.js';
import { type DevStack, startDevStack } from '../../local/dev.js';

let cwd: string;
let stack: DevStack;
let fleet: DemoFleet;

const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}) => {
  const res = await fetch(`${stack.endpoints.api}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${stack.endpoints.apiKey}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
};

const eventually = async <T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'gsm-release-'));
  stack = await startDevStack({ port: 0, cwd, logLevel: 'silent' });
  fleet = stack.fleet as DemoFleet;
  const report = await fleet.installed;
  expect(report.failed).toEqual([]);
  expect(report.ready).toHaveLength(12);
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(cwd, { recursive: true, force: true });
}, 30_000);

describe('a release on the demo fleet', () => {
  it('pushes the healthy demo 1.1.0 and releases it to group=demo in waves: all 12 hosts run it', {
    timeout: 180_000,
  }, async () => {
    // Prepare: the healthy 1.1.0 build, pushed and staged through the real path.
    const built = await buildDemoPackages(join(cwd, 'build'), {
      versions: [DEMO_NEXT_VERSION],
      faultyVersions: [],
      formats: ['tar.gz'],
    });
    const file = join(cwd, `demo-${DEMO_NEXT_VERSION}.tar.gz`);
    await copyFile(built[0]?.file ?? '', file);
    const stderr = new PassThrough();
    let errText = '';
    stderr.on('data', (c: Buffer) => {
      errText += c.toString();
    });
    const pushed = await main(
      ['node', 'gsm', 'package', 'push', file, '--game', 'demo', '--version', DEMO_NEXT_VERSION],
      { env: {}, cwd, streams: { stdout: new PassThrough().resume(), stderr } },
    );
    expect(pushed, errText).toBe(0);
    const pkg = await eventually(
      'demo 1.1.0 staged',
      async () => {
        const found = await stack.store.packages.get(`demo@${DEMO_NEXT_VERSION}`).catch(() => undefined);
        if (found?.state === 'rejected') throw new Error(`package rejected: ${JSON.stringify(found)}`);
        return found?.state === 'staged' ? found : undefined;
      },
      60_000,
    );
    expect(pkg).toMatchObject<Partial<Package>>({ sha256: built[0]?.sha256 });
    expect(pkg.origins.filter((o) => o.verified).length).toBeGreaterThan(0);

    // Act
    const created = await api<Release>('/v1/releases', {
      method: 'POST',
      body: {
        package: { game: 'demo', version: DEMO_NEXT_VERSION },
        target: { tags: { group: 'demo' } },
        strategy: { canary: 1, batch: '50%', maxErrors: 1, healthTimeoutSec: 10, drain: { timeoutSec: 5 } },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const release = await eventually(
      'the release to end',
      async () => {
        const { body } = await api<ReleaseDetail>(`/v1/releases/${created.body.id}`);
        return ['succeeded', 'failed', 'rolled_back', 'cancelled'].includes(body.state) ? body : undefined;
      },
      150_000,
    );

    // Assess: the release ships the healthy build by its SHA-256 to every host, demo-07 too:
    // its pre-staged faulty 1.1.0 has another hash, so the agent installs the pushed build over it.
    expect(release.state, JSON.stringify({ reason: release.reason, jobs: release.jobs })).toBe('succeeded');
    expect(release.waves.map((w) => w.hostIds.length)).toEqual([1, 6, 5]);
    expect(release.counters).toMatchObject({ total: 12, succeeded: 12 });
    const deploys = release.jobs.filter((j) => j.action === 'deploy');
    expect(deploys).toHaveLength(12);
    expect(deploys.every((j) => j.state === 'succeeded')).toBe(true);
    expect(deploys.map((j) => j.hostId)).toContain(DEMO_FAULT_HOST);
    // Each host switched to 1.1.0 and its game answered the health check (the faulty build never does).
    for (const job of deploys) {
      expect(job.result, job.hostId).toMatchObject({ version: DEMO_NEXT_VERSION, previous: '1.0.0' });
    }
  });
});
