import { describe, expect, it } from 'vitest';
import type { ActionDetail } from '../../../functions/api/routes/actions.js';
import { runMain } from '../../../test/helpers/cli-in-process.js';
import { useWorkflowApi } from '../../../test/helpers/workflow-api.js';

/** `gsm action ...` in process against the real API on a loopback port, a real store and the emulator. */
describe('gsm action', () => {
  const api = useWorkflowApi({
    name: 'cli-action',
    machine: 'action',
    hosts: ['h1', 'h2', 'h3'],
    group: 'demo',
    serve: true,
  });
  const gsm = (...args: string[]) =>
    runMain(args, { env: { endpoint: api.base, apiKey: api.keys.operator } });

  const failH2 = () =>
    api.useRelay({
      decide: (job) =>
        job.hostId === 'h2'
          ? { state: 'failed', error: { code: 'E_AGENT_DOWN', message: 'connection refused' } }
          : { state: 'succeeded' },
    });

  it('follows every host with --wait and exits 0 when all succeeded', async () => {
    api.useRelay();

    const run = await gsm('action', 'status', '--target', 'group=demo', '--wait');

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^action act-\S+ succeeded: 3\/3 hosts succeeded$/m);
    for (const host of ['h1', 'h2', 'h3'])
      expect(run.stderr).toMatch(new RegExp(`^ {2}${host} {2}succeeded$`, 'm'));
  });

  it('exits 1 with --wait when a host failed, printing its reason and the hosts not dispatched', async () => {
    failH2();

    const run = await gsm(
      'action',
      'restart',
      '--target',
      'h3,h2,h1',
      '--max-concurrency',
      '1',
      '--max-errors',
      '0',
      '--wait',
    );

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('1 of 3 hosts failed, more than maxErrors (0) allows; 1 not dispatched');
    expect(run.stdout).toMatch(/^ {2}h2 {2}failed {2}E_AGENT_DOWN: connection refused$/m);
    expect(run.stdout).toMatch(/^ {2}h3 {2}cancelled/m);
  });

  it('prints exactly the final action as JSON with --json --wait', async () => {
    failH2();

    const run = await gsm('--json', 'action', 'stop', '--target', 'h1,h2', '--max-errors', '50%', '--wait');

    expect(run.code).toBe(1);
    const detail = JSON.parse(run.stdout) as ActionDetail;
    expect(detail).toMatchObject({ action: 'stop', state: 'succeeded', strategy: { maxErrors: '50%' } });
    expect(detail.jobs.map((j) => [j.hostId, j.state])).toEqual([
      ['h1', 'succeeded'],
      ['h2', 'failed'],
    ]);
  });

  it('prints the action id and returns at once without --wait', async () => {
    const run = await gsm('action', 'start', '--target', 'h1');

    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^act-\d{14}-[0-9a-z]{8}$/);
  });

  it.each([
    ['a target mixing ids and tags', ['--target', 'h1,group=demo']],
    ['no target', []],
    ['a bad percentage', ['--target', 'h1', '--max-errors', '120%']],
  ])('refuses %s before any request', async (_label, args) => {
    const before = api.requests.length;

    const run = await gsm('action', 'start', ...args);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: invalid arguments to `gsm action start`/);
    expect(api.requests.length).toBe(before);
  });
});
