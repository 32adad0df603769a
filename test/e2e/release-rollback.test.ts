/**
 * Releases that go wrong, on the real local stack (relay, demo origin, 12 real demo agents on
 * demo 1.0.0), with two faulty hosts (demo-03 and demo-05: their demo game never answers from
 * 1.1.0 on): a bad build stopped at the canary, an error budget spent by two failing hosts,
 * and an operator's cancel mid-wave. Every case ends with the fleet back on 1.0.0, checked
 * through GET /v1/hosts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoFleet } from '../../local/demo/index.js';
import { type DevStack, startDevStack } from '../../local/dev.js';
import {
  callApi,
  createRelease,
  deploysOf,
  eventually,
  gsmDev,
  pushDemoBuild,
  releaseDetail,
  releaseEnded,
  rollbacksOf,
  versionsBecome,
} from '../helpers/release-e2e.js';

const FAULTY = ['demo-03', 'demo-05'];
const ALL = Array.from({ length: 12 }, (_, i) => `demo-${String(i + 1).padStart(2, '0')}`);
const allOn = (version: string) => Object.fromEntries(ALL.map((id) => [id, version]));
/** Jobs that never left the queue were never dispatched to their host. */
const touched = (jobs: { hostId: string; state: string }[]) =>
  jobs.filter((j) => !['queued', 'cancelled'].includes(j.state)).map((j) => j.hostId);

let cwd: string;
let stack: DevStack;
let fleet: DemoFleet;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'gsm-release-rollback-'));
  stack = await startDevStack({ port: 0, cwd, logLevel: 'silent', faultyHosts: FAULTY });
  fleet = stack.fleet as DemoFleet;
  const report = await fleet.installed;
  expect(report.failed).toEqual([]);
  await pushDemoBuild(stack, cwd, '1.1.0');
}, 150_000);

afterAll(async () => {
  await stack?.close();
  await rm(cwd, { recursive: true, force: true });
}, 60_000);

describe('releases that fail or are stopped', () => {
  it('a bad build fails its canary with maxErrors 0: no host past the canary is touched, it ends rolled_back', {
    timeout: 150_000,
  }, async () => {
    // Prepare: a build that never answers its query on any host.
    await pushDemoBuild(stack, cwd, '1.2.0', { faulty: true });

    // Act
    const created = await createRelease(stack, {
      package: { game: 'demo', version: '1.2.0' },
      target: { tags: { group: 'demo' } },
      strategy: { canary: 1, batch: '25%', maxErrors: 0, healthTimeoutSec: 5, drain: { timeoutSec: 5 } },
    });
    const release = await releaseEnded(stack, created.id);

    // Assess
    expect(release.state, JSON.stringify(release.jobs)).toBe('rolled_back');
    expect(release.reason).toContain('more than maxErrors 0');
    expect(touched(deploysOf(release))).toEqual(['demo-01']);
    expect(deploysOf(release).find((j) => j.hostId === 'demo-01')?.error?.code).toBe('E_HEALTH_CHECK_FAILED');
    // The canary switched itself back when its health check failed: nothing else to undo.
    expect(rollbacksOf(release)).toEqual([]);
    await versionsBecome(stack, allOn('1.0.0'));
  });

  it('maxErrors 1 and two failing hosts: it stops after the second and rolls back every host it changed', {
    timeout: 150_000,
  }, async () => {
    // Act: waves [01] [02 03 04] [05 06 07] [08 09 10] [11 12]; 03 fails (within budget), 05 spends it.
    const created = await createRelease(stack, {
      package: { game: 'demo', version: '1.1.0' },
      target: { tags: { group: 'demo' } },
      strategy: { canary: 1, batch: '25%', maxErrors: 1, healthTimeoutSec: 5, drain: { timeoutSec: 5 } },
    });
    const release = await releaseEnded(stack, created.id);

    // Assess
    expect(release.state, JSON.stringify({ reason: release.reason, jobs: release.jobs })).toBe('rolled_back');
    expect(release.reason).toContain('more than maxErrors 1');
    const failed = deploysOf(release).filter((j) => j.state === 'failed');
    expect(failed.map((j) => j.hostId).sort()).toEqual(FAULTY);
    // Nothing past the wave that spent the budget was dispatched.
    expect(touched(deploysOf(release)).sort()).toEqual(ALL.slice(0, 7));
    expect(rollbacksOf(release).map((j) => [j.hostId, j.state])).toEqual(
      ['demo-01', 'demo-02', 'demo-04', 'demo-06', 'demo-07'].map((id) => [id, 'succeeded']),
    );
    await versionsBecome(stack, allOn('1.0.0'));
  });

  it('cancel mid-wave (`gsm release cancel`): the host in flight finishes, nothing more is dispatched, it ends cancelled', {
    timeout: 150_000,
  }, async () => {
    // Prepare: players on demo-08 hold its deploy in the drain (up to 8 s), one host at a time.
    const slow = fleet.hosts.find((h) => h.id === 'demo-08');
    await writeFile(slow?.control ?? '', JSON.stringify({ players: 2 }));
    const targets = ['demo-08', 'demo-09', 'demo-10', 'demo-11'];
    const created = await createRelease(stack, {
      package: { game: 'demo', version: '1.1.0' },
      target: { hosts: targets },
      strategy: {
        canary: 0,
        batch: '100%',
        maxConcurrency: 1,
        healthTimeoutSec: 10,
        drain: { timeoutSec: 8 },
      },
    });
    await eventually(
      'demo-08 draining',
      async () => {
        const detail = await releaseDetail(stack, created.id);
        const job = deploysOf(detail).find((j) => j.hostId === 'demo-08');
        return job?.state === 'running' ? job : undefined;
      },
      60_000,
    );

    // Act
    const cancelled = await gsmDev(cwd, ['release', 'cancel', created.id, '--reason', 'wrong build']);
    const release = await releaseEnded(stack, created.id);

    // Assess
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(release.state, JSON.stringify({ reason: release.reason, jobs: release.jobs })).toBe('cancelled');
    expect(release.reason).toContain('wrong build');
    // The host in flight ran to its end; the others were never dispatched.
    expect(deploysOf(release).find((j) => j.hostId === 'demo-08')?.state).toBe('succeeded');
    expect(touched(deploysOf(release))).toEqual(['demo-08']);
    // What it changed was put back.
    expect(rollbacksOf(release).map((j) => [j.hostId, j.state])).toEqual([['demo-08', 'succeeded']]);
    await versionsBecome(stack, allOn('1.0.0'));
    const { body: hosts } = await callApi<{ items: { id: string }[] }>(stack, '/v1/hosts?tag=group=demo');
    expect(hosts.items).toHaveLength(12);
  });
});
