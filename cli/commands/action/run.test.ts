import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ActionDetail } from '../../../functions/api/routes/actions.js';
import { runMain } from '../../../test/helpers/cli-in-process.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { type LoopbackServer, serveLoopback, workflowApp } from '../../../test/helpers/release-api.js';
import {
  type ActionWorkflowStack,
  type FakeRelay,
  startActionWorkflow,
  startFakeRelay,
} from '../../../workflows/action.fixture.js';

/** `gsm action ...` in process against the real API on a loopback port, a real store and the emulator. */
describe('gsm action', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let relay: FakeRelay | undefined;
  let server: LoopbackServer;
  let env: { endpoint: string; apiKey: string };
  const requests: string[] = [];

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'cli-action');
    for (const id of ['h1', 'h2', 'h3']) {
      await db.store.hosts.create({ id, address: '127.0.0.1', tags: { group: 'demo' } });
    }
    stack = await startActionWorkflow(db.store);
    const app = workflowApp(db.store, stack, 'action');
    server = await serveLoopback(app.fetch, (req) =>
      requests.push(`${req.method} ${new URL(req.url).pathname}`),
    );
    const { key } = await db.store.apiKeys.create({ name: 'ops', role: 'operator' });
    env = { endpoint: server.base, apiKey: key };
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });
  afterAll(async () => {
    await server?.close();
    await stack?.close();
    await db?.close();
  });

  const gsm = (...args: string[]) => runMain(args, { env });

  const failH2 = () =>
    startFakeRelay({
      sfn: stack.sfn,
      activityArn: stack.activityArn,
      store: db.store,
      decide: (job) =>
        job.hostId === 'h2'
          ? { state: 'failed', error: { code: 'E_AGENT_DOWN', message: 'connection refused' } }
          : { state: 'succeeded' },
    });

  it('follows every host with --wait and exits 0 when all succeeded', async () => {
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store });

    const run = await gsm('action', 'status', '--target', 'group=demo', '--wait');

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^action act-\S+ succeeded: 3\/3 hosts succeeded$/m);
    for (const host of ['h1', 'h2', 'h3'])
      expect(run.stderr).toMatch(new RegExp(`^ {2}${host} {2}succeeded$`, 'm'));
  });

  it('exits 1 with --wait when a host failed, printing its reason and the hosts not dispatched', async () => {
    relay = failH2();

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
    relay = failH2();

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
    const before = requests.length;

    const run = await gsm('action', 'start', ...args);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: invalid arguments to `gsm action start`/);
    expect(requests.length).toBe(before);
  });
});
