import { describe, expect, it } from 'vitest';
import type { HostJobSpec } from '../../../core/model/index.js';
import type { ReleaseDetail } from '../../../functions/api/routes/releases.js';
import { runMain } from '../../../test/helpers/cli-in-process.js';
import { useWorkflowApi } from '../../../test/helpers/workflow-api.js';
import type { FakeOutcome, FakeRelayOptions } from '../../../workflows/action.fixture.js';

const HOSTS = ['h1', 'h2', 'h3', 'h4'];

const failing =
  (hosts: readonly string[]) =>
  (job: HostJobSpec): FakeOutcome =>
    job.action === 'deploy' && hosts.includes(job.hostId)
      ? { state: 'failed', error: { code: 'E_HEALTH_CHECK_FAILED', message: `${job.hostId} did not answer` } }
      : { state: 'succeeded' };

/**
 * `gsm release ...` in process against the real API on a loopback port, a real store, the
 * release workflow on the Step Functions emulator, and a stand-in relay that settles each host
 * job as the test says.
 */
describe('gsm release', () => {
  const api = useWorkflowApi({
    name: 'cli-release',
    machine: 'release',
    hosts: HOSTS,
    group: 'eu',
    stage: { sha256: 'b'.repeat(64) },
    serve: true,
  });
  const gsm = (...args: string[]) =>
    runMain(args, { env: { endpoint: api.base, apiKey: api.keys.operator } });
  const useRelay = (decide?: FakeRelayOptions['decide']) => api.useRelay({ decide });
  const waitForState = async (id: string, state: string) => {
    for (let i = 0; i < 200; i++) {
      if ((await api.store.releases.get(id)).state === state) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`release ${id} never reached ${state}`);
  };

  it('follows a release with --wait and exits 0 when it succeeded within its error budget, naming the failed host', async () => {
    useRelay(failing(['h3']));

    const run = await gsm(
      'release',
      'create',
      '--package',
      'demo@1.1.0',
      '--target',
      'group=eu',
      '--canary',
      '1',
      '--batch',
      '50%',
      '--max-errors',
      '1',
      '--wait',
    );

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^release rel-\S+ succeeded: 3 succeeded, 1 failed, 0 not dispatched of 4 hosts$/m,
    );
    expect(run.stdout).toMatch(/^ {2}h3 {2}failed {2}E_HEALTH_CHECK_FAILED: h3 did not answer$/m);
    // Followed through the release's event stream, not by polling it.
    const id = /^release (rel-\S+) succeeded/m.exec(run.stdout)?.[1];
    expect(api.requests).toContain(`GET /v1/releases/${id}/events`);
    expect(api.requests.filter((r) => r === `GET /v1/releases/${id}`).length).toBeLessThanOrEqual(1);
    // Not a terminal: plain lines, one per change.
    expect(run.stderr).toMatch(/^ {2}wave 0 canary \(1 hosts\) done$/m);
    expect(run.stderr).toMatch(/^ {4}h1 {2}succeeded$/m);
  });

  it('exits 1 when the canary fails with maxErrors 0, showing the release rolled back and why', async () => {
    useRelay(failing(['h2']));

    const run = await gsm('release', 'create', '--package', 'demo@1.1.0', '--target', 'h2,h1,h3', '--wait');

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^release rel-\S+ rolled_back: 0 succeeded, 1 failed, 2 not dispatched of 3 hosts$/m,
    );
    expect(run.stdout).toContain('more than maxErrors 0');
    expect(run.stdout).toMatch(/^ {2}h2 {2}failed {2}E_HEALTH_CHECK_FAILED: h2 did not answer$/m);
  });

  it('waits at an approval gate, goes on with `gsm release approve`, and `show --watch` follows it to the end', async () => {
    useRelay();
    const created = await gsm(
      'release',
      'create',
      '--package',
      'demo@1.1.0',
      '--target',
      'group=eu',
      '--approval',
      'after-canary',
      '--batch',
      '3',
    );
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    await waitForState(id, 'waiting_approval');

    const shown = await gsm('--json', 'release', 'show', id);
    const waiting = JSON.parse(shown.stdout) as ReleaseDetail;
    expect(waiting).toMatchObject({ state: 'waiting_approval', approvalWave: 1 });
    // Nothing past the gate was dispatched: only the canary's job left the queue.
    expect(waiting.jobs.filter((j) => j.state !== 'queued').map((j) => j.hostId)).toEqual(['h1']);

    const approved = await gsm('release', 'approve', id);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`release ${id} approved`);

    const watched = await gsm('release', 'show', id, '--watch');
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(new RegExp(`^release ${id} succeeded: 4 succeeded`, 'm'));

    const listed = await gsm('release', 'list');
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+demo@1.1.0\\s+group=eu\\s+succeeded\\s+4`, 'm'));
  });

  it('refuses to approve a release that is not waiting, with the API reason', async () => {
    useRelay();
    const created = await gsm(
      '--json',
      'release',
      'create',
      '--package',
      'demo@1.1.0',
      '--target',
      'h4',
      '--wait',
    );
    const { id } = JSON.parse(created.stdout) as ReleaseDetail;

    const run = await gsm('release', 'approve', id);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: release '\S+' is succeeded, not waiting for approval: nothing to approve$/m,
    );
  });

  it('rolls an ended release back with `gsm release rollback`; following it ends rolled_back and exits 1', async () => {
    useRelay();
    const created = await gsm(
      '--json',
      'release',
      'create',
      '--package',
      'demo@1.1.0',
      '--target',
      'h4',
      '--wait',
    );
    const { id } = JSON.parse(created.stdout) as ReleaseDetail;

    const run = await gsm('release', 'rollback', id, '--reason', 'players report lag');
    const watched = await gsm('release', 'show', id, '--watch');

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`release ${id} rolling back`);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(
      new RegExp(`^release ${id} rolled_back: .*1 rolled back of 1 hosts$`, 'm'),
    );
  });

  it.each([
    [
      'a package without a version',
      ['--package', 'demo', '--target', 'h1'],
      /--package: 'demo' is not game@version/,
    ],
    ['a bad percentage', ['--package', 'demo@1.1.0', '--target', 'h1', '--batch', '150%'], /--batch/],
    [
      'a count that is not a number',
      ['--package', 'demo@1.1.0', '--target', 'h1', '--canary', 'one'],
      /--canary/,
    ],
    [
      'an unknown approval mode',
      ['--package', 'demo@1.1.0', '--target', 'h1', '--approval', 'sometimes'],
      /--approval is one of none, after-canary, every-wave/,
    ],
    [
      'an unknown rollback mode',
      ['--package', 'demo@1.1.0', '--target', 'h1', '--rollback', 'maybe'],
      /--rollback/,
    ],
    [
      'a zero health timeout',
      ['--package', 'demo@1.1.0', '--target', 'h1', '--health-timeout', '0'],
      /at least 1/,
    ],
    ['no target', ['--package', 'demo@1.1.0'], /--target/],
  ])('refuses %s before any request', async (_label, args, message) => {
    const before = api.requests.length;

    const run = await gsm('release', 'create', ...args);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: invalid arguments to `gsm release create`/);
    expect(run.stderr).toMatch(message);
    expect(api.requests.length).toBe(before);
  });

  it('passes the API refusal of a target that matches no host through, starting nothing', async () => {
    const run = await gsm('release', 'create', '--package', 'demo@1.1.0', '--target', 'group=nowhere');

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*match/m);
  });
});
