/**
 * The `npm start` demo release on the real local stack (`gsm dev` in this process: the relay,
 * the demo download origin and 12 real demo agents running demo 1.0.0): demo 1.1.0 is pushed
 * through the real upload, intake and staging path and released to group=demo with canary 1,
 * batch 25%, maxErrors 1, by gsm dev itself. demo-07 (fault=health) fails its health check with
 * the very package every other host runs, goes back to 1.0.0, and the release succeeds within
 * its budget. Then, on the same stack, an approval gate answered with `gsm release approve`, and
 * an upload that a game's auto-release policy ships without any command.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo } from '../../agent/games/demo.js';
import { queryGame } from '../../agent/games/query.js';
import type { Job, Release } from '../../core/model/index.js';
import { DEMO_BASE_VERSION, DEMO_FAULT_HOST, DEMO_NEXT_VERSION } from '../../local/demo/index.js';
import { demoReleaseSummary } from '../../local/demo/release.js';
import { type DemoReleaseOutcome, type DevStack, startDevStack } from '../../local/dev.js';
import {
  callApi,
  deploysOf,
  eventually,
  gsmDev,
  pushDemoBuild,
  releaseDetail,
  releaseEnded,
  rollbacksOf,
  versionsBecome,
} from '../helpers/release-e2e.js';

let cwd: string;
let stack: DevStack;
const printed: string[] = [];

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'gsm-release-'));
  stack = await startDevStack({
    port: 0,
    cwd,
    logLevel: 'silent',
    demoRelease: true,
    onDemoRelease: (line) => printed.push(line),
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(cwd, { recursive: true, force: true });
}, 60_000);

const ids = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `demo-${String(from + i).padStart(2, '0')}`);

describe('the npm start demo release', () => {
  it('ends succeeded by itself: 11 hosts on 1.1.0, demo-07 failed its health check and back on 1.0.0', {
    timeout: 240_000,
  }, async () => {
    // Act: nothing but waiting; gsm dev pushes and releases on its own.
    const outcome = (await Promise.race([
      stack.demoRelease,
      new Promise((_, reject) => setTimeout(() => reject(new Error('demo release still running')), 200_000)),
    ])) as DemoReleaseOutcome;

    // Assess: the release, its jobs and the fleet as GET /v1/hosts shows it.
    if (!outcome.ok) throw new Error(`demo release failed to run: ${outcome.error}`);
    const release = await releaseDetail(stack, outcome.release.id);
    expect(release, JSON.stringify({ reason: release.reason, jobs: release.jobs })).toMatchObject({
      state: 'succeeded',
      game: 'demo',
      version: DEMO_NEXT_VERSION,
      target: { tags: { group: 'demo' } },
      strategy: { canary: 1, batch: '25%', maxErrors: 1, approval: 'none' },
      counters: { total: 12, succeeded: 11, failed: 1 },
    });
    expect(release.waves.map((w) => w.hostIds.length)).toEqual([1, 3, 3, 3, 2]);
    const failed = deploysOf(release).filter((j) => j.state !== 'succeeded');
    expect(failed.map((j) => [j.hostId, j.state, j.error?.code])).toEqual([
      [DEMO_FAULT_HOST, 'failed', 'E_HEALTH_CHECK_FAILED'],
    ]);
    expect(failed[0]?.error?.message).toContain(`switched back to ${DEMO_BASE_VERSION}`);
    // Within its error budget nothing is rolled back: the other 11 keep the new version.
    expect(rollbacksOf(release)).toEqual([]);
    await versionsBecome(stack, {
      ...Object.fromEntries(ids(1, 12).map((id) => [id, DEMO_NEXT_VERSION])),
      [DEMO_FAULT_HOST]: DEMO_BASE_VERSION,
    });
    // The fleet was serving when the release came: demo-07 is back on 1.0.0 and its game
    // answers a real Quake 3 query, as does a host on 1.1.0.
    const fault = stack.fleet?.hosts.find((h) => h.id === DEMO_FAULT_HOST);
    const healthy = stack.fleet?.hosts.find((h) => h.id === 'demo-01');
    const answers = await Promise.all(
      [fault, healthy].map((host) =>
        queryGame(demo, { host: '127.0.0.1', port: host?.gamePort ?? 0, timeoutMs: 3000 }),
      ),
    );
    expect(answers.map((a) => a.version)).toEqual([DEMO_BASE_VERSION, DEMO_NEXT_VERSION]);
    // One package for all: demo-07 got the same build by its SHA-256 and the fault is the host's.
    const { body: jobs } = await callApi<{ items: Job[] }>(
      stack,
      `/v1/releases/${release.id}/jobs?limit=500`,
    );
    const shas = new Set(jobs.items.filter((j) => j.action === 'deploy').map((j) => j.params.sha256));
    expect(shas.size).toBe(1);
    // What gsm dev prints at the end names the failed host and why.
    expect(demoReleaseSummary(outcome.release)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^ {2}${DEMO_FAULT_HOST} {2}failed {2}E_HEALTH_CHECK_FAILED: .*switched back to ${DEMO_BASE_VERSION}; ${DEMO_BASE_VERSION} is serving again \\(pid \\d+\\)$`,
        ),
      ),
    );
    // Progress was printed as it went.
    expect(printed.some((l) => l.includes(`${DEMO_FAULT_HOST}  failed  E_HEALTH_CHECK_FAILED`))).toBe(true);
    expect(printed.some((l) => /wave 4 batch \(2 hosts\) done/.test(l))).toBe(true);
  });

  it('an approval gate waits with nothing dispatched past it, and goes on with `gsm release approve`', {
    timeout: 180_000,
  }, async () => {
    // Prepare: a third healthy build, for three hosts that are not faulty.
    await pushDemoBuild(stack, cwd, '1.2.0');
    const created = await gsmDev(cwd, [
      'release',
      'create',
      '--package',
      'demo@1.2.0',
      '--target',
      'demo-01,demo-02,demo-03',
      '--approval',
      'after-canary',
      '--batch',
      '2',
      '--health-timeout',
      '10',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();

    // Assess the gate: waiting after the canary, and still only the canary dispatched a while later.
    const waiting = await eventually(
      'the approval gate',
      async () => {
        const detail = await releaseDetail(stack, id);
        return detail.state === 'waiting_approval' ? detail : undefined;
      },
      60_000,
    );
    expect(waiting.approvalWave).toBe(1);
    await new Promise((r) => setTimeout(r, 3000));
    const held = await releaseDetail(stack, id);
    expect(held.state).toBe('waiting_approval');
    expect(
      deploysOf(held)
        .filter((j) => j.state !== 'queued')
        .map((j) => [j.hostId, j.state]),
    ).toEqual([['demo-01', 'succeeded']]);

    // Act
    const approved = await gsmDev(cwd, ['release', 'approve', id]);
    const watched = await gsmDev(cwd, ['release', 'show', id, '--watch']);

    // Assess
    expect(approved.code, approved.stderr).toBe(0);
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(new RegExp(`^release ${id} succeeded: 3 succeeded, 0 failed`, 'm'));
    await versionsBecome(stack, { 'demo-01': '1.2.0', 'demo-02': '1.2.0', 'demo-03': '1.2.0' });
  });

  it('an upload with an auto-release policy ships without a command', { timeout: 180_000 }, async () => {
    // Prepare: the game's policy releases every staged package to three healthy hosts.
    const policy = await callApi(stack, '/v1/games/demo/policy', {
      method: 'PUT',
      body: {
        autoRelease: true,
        target: { hosts: ['demo-01', 'demo-02', 'demo-03'] },
        strategy: { canary: 1, batch: '100%', healthTimeoutSec: 10 },
      },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);

    // Act: an upload, and nothing else.
    await pushDemoBuild(stack, cwd, '1.3.0');

    // Assess: a release of it started by itself and shipped it.
    const started = await eventually(
      'the auto-release of demo 1.3.0',
      async () => {
        const { body } = await callApi<{ items: Release[] }>(stack, '/v1/releases');
        return body.items.find((r) => r.version === '1.3.0');
      },
      60_000,
    );
    const release = await releaseEnded(stack, started.id);
    expect(release.state, JSON.stringify({ reason: release.reason, jobs: release.jobs })).toBe('succeeded');
    expect(release.target).toEqual({ hosts: ['demo-01', 'demo-02', 'demo-03'] });
    await versionsBecome(stack, { 'demo-01': '1.3.0', 'demo-02': '1.3.0', 'demo-03': '1.3.0' });
  });
});
