/**
 * `gsm dev --no-demo-release` on the real local stack in this process: the demo fleet comes up
 * serving demo 1.0.0 (installed and started through the action workflow), demo 1.1.0 is pushed
 * and staged, and nothing is released until someone runs `gsm release create`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo } from '../../agent/games/demo.js';
import { queryGame } from '../../agent/games/query.js';
import type { Release } from '../../core/model/index.js';
import { DEMO_BASE_VERSION, DEMO_NEXT_VERSION, type DemoFleet } from '../../local/demo/index.js';
import { type DemoStageOutcome, type DevStack, startDevStack } from '../../local/dev.js';
import { callApi, gsmDev, releaseDetail } from '../helpers/release-e2e.js';

let cwd: string;
let stack: DevStack;
let fleet: DemoFleet;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'gsm-dev-no-release-'));
  // What `gsm dev --no-demo-release` asks of the stack.
  stack = await startDevStack({ port: 0, cwd, logLevel: 'silent', demoRelease: false, stageDemoNext: true });
  fleet = stack.fleet as DemoFleet;
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(cwd, { recursive: true, force: true });
}, 60_000);

const bounded = <T>(promise: Promise<T> | undefined, what: string, ms: number): Promise<T> =>
  Promise.race([
    promise ?? Promise.reject(new Error(`no ${what}`)),
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: still waiting`)), ms)),
  ]);

describe('gsm dev --no-demo-release', () => {
  it('serves demo 1.0.0 on every demo host and stages demo 1.1.0 without releasing it', {
    timeout: 180_000,
  }, async () => {
    const report = await bounded(fleet.installed, 'the pre-install', 120_000);
    const staged = await bounded<DemoStageOutcome>(stack.demoStaged, 'demo 1.1.0 staged', 120_000);

    expect(report.failed).toEqual([]);
    expect(report.ready).toHaveLength(fleet.hosts.length);
    const answers = await Promise.all(
      fleet.hosts.map((host) => queryGame(demo, { host: '127.0.0.1', port: host.gamePort, timeoutMs: 3000 })),
    );
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set([DEMO_BASE_VERSION]));
    if (!staged.ok) throw new Error(`demo 1.1.0 not staged: ${staged.error}`);
    expect(staged.package).toMatchObject({ id: `demo@${DEMO_NEXT_VERSION}`, state: 'staged' });
    expect(stack.demoRelease).toBeUndefined();
    expect((await callApi<{ items: Release[] }>(stack, '/v1/releases')).body.items).toEqual([]);
  });

  it('leaves the release to an operator: `gsm release create` ships the staged 1.1.0', {
    timeout: 120_000,
  }, async () => {
    const run = await gsmDev(cwd, [
      'release',
      'create',
      '--package',
      `demo@${DEMO_NEXT_VERSION}`,
      '--target',
      'demo-01,demo-02',
      '--canary',
      '1',
      '--wait',
    ]);

    expect(run.code, run.stdout + run.stderr).toBe(0);
    const [release] = (await callApi<{ items: Release[] }>(stack, '/v1/releases')).body.items;
    expect((await releaseDetail(stack, release?.id ?? '')).state).toBe('succeeded');
    const answer = await queryGame(demo, {
      host: '127.0.0.1',
      port: fleet.hosts[0]?.gamePort ?? 0,
      timeoutMs: 3000,
    });
    expect(answer.version).toBe(DEMO_NEXT_VERSION);
  });
});
