import { DescribeExecutionCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HostJobSpec } from '../core/model/index.js';
import type { NewRelease } from '../core/store/types.js';
import { startTestDynamoDb, type TestDynamoDb } from '../test/helpers/dynamodb.js';
import {
  type ActionWorkflowStack,
  type FakeOutcome,
  type FakeRelay,
  startFakeRelay,
} from './action.fixture.js';
import { startReleaseWorkflow } from './release.fixture.js';
import { releaseDefinition } from './release.js';

const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const SHA = 'b'.repeat(64);

const waitForEnd = async (stack: ActionWorkflowStack, executionArn: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await stack.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING') return out;
    if (Date.now() > deadline) throw new Error(`still running: ${executionArn}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

const failing =
  (hosts: readonly string[]) =>
  (job: HostJobSpec): FakeOutcome =>
    job.action === 'deploy' && hosts.includes(job.hostId)
      ? { state: 'failed', error: { code: 'E_HEALTH_CHECK_FAILED', message: `${job.hostId} did not answer` } }
      : { state: 'succeeded' };

describe('the release definition', () => {
  it('is plain JSONPath ASL naming its tasks by function name and the relay by activity ARN', () => {
    const arn = 'arn:aws:states:eu-west-1:111122223333:activity:gsm-relay';
    const text = JSON.stringify(releaseDefinition({ relayActivityArn: arn }));

    expect(text).not.toMatch(/JSONata|"Assign"|"Arguments"|"Output"/);
    for (const name of [
      'plan-release',
      'await-approval',
      'evaluate-wave',
      'plan-rollback',
      'finalize-release',
    ]) {
      expect(text).toContain(`"FunctionName":"gsm-${name}"`);
    }
    expect(text).toContain('"Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken"');
    expect(text).toContain(`"Resource":"${arn}"`);
  });
});

describe('the release workflow on the local emulator', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let relay: FakeRelay | undefined;

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'release-flow');
    for (const id of HOSTS)
      await db.store.hosts.create({ id, address: '127.0.0.1', tags: { group: 'demo' } });
    const pkg = await db.store.packages.create({
      game: 'demo',
      version: '1.1.0',
      fileName: 'demo.tar.gz',
      size: 10,
      s3Key: 'packages/demo/1.1.0/demo.tar.gz',
      state: 'verifying',
    });
    await db.store.packages.transition(pkg.id, 'verified', { sha256: SHA });
    await db.store.packages.transition(pkg.id, 'staging');
    await db.store.packages.transition(pkg.id, 'staged', {
      origins: [{ id: 'o1', url: 'http://127.0.0.1:9/demo.tar.gz', verified: true }],
    });
    stack = await startReleaseWorkflow(db.store);
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });
  afterAll(async () => {
    await stack?.close();
    await db?.close();
  });

  const start = async (input: Partial<NewRelease>) => {
    const release = await db.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { tags: { group: 'demo' } },
      strategy: { canary: 1, batch: 2 },
      ...input,
    });
    const started = await stack.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.stateMachineArn,
        name: release.id,
        input: JSON.stringify({ releaseId: release.id }),
      }),
    );
    return { releaseId: release.id, executionArn: started.executionArn as string };
  };
  const finish = async ({ releaseId, executionArn }: { releaseId: string; executionArn: string }) => {
    const execution = await waitForEnd(stack, executionArn);
    const deploys = (await db.store.jobs.listByParent(releaseId)).items;
    const rollbacks = (await db.store.jobs.listByParent(`${releaseId}.rollback`)).items;
    return { execution, release: await db.store.releases.get(releaseId), deploys, rollbacks };
  };
  const useRelay = (decide?: Parameters<typeof startFakeRelay>[0]['decide']) => {
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store, decide });
    return relay;
  };

  it('deploys every host, canary first then batches, and succeeds', async () => {
    const fake = useRelay();

    const { execution, release, deploys } = await finish(await start({}));

    expect(execution.status).toBe('SUCCEEDED');
    expect(release).toMatchObject({ state: 'succeeded', counters: { total: 6, succeeded: 6 } });
    expect(release.waves.map((w) => w.hostIds)).toEqual([['h1'], ['h2', 'h3'], ['h4', 'h5'], ['h6']]);
    expect(fake.ran[0]).toBe(`${release.id}.h1.deploy`);
    expect(fake.ran.slice(-1)).toEqual([`${release.id}.h6.deploy`]);
    expect(deploys.every((j) => j.state === 'succeeded' && j.params.sha256 === SHA)).toBe(true);
  });

  it('stops at a failed canary with maxErrors 0: no host past it is touched, and the release ends rolled_back', async () => {
    const fake = useRelay(failing(['h1']));

    const { execution, release, deploys, rollbacks } = await finish(await start({}));

    expect(execution.status).toBe('FAILED');
    expect(fake.ran).toEqual([`${release.id}.h1.deploy`]);
    expect(release).toMatchObject({
      state: 'rolled_back',
      counters: { total: 6, failed: 1, notDispatched: 5 },
    });
    expect(release.reason).toBe('1 host(s) failed by wave 1, more than maxErrors 0');
    expect(deploys.filter((j) => j.state === 'queued')).toHaveLength(5);
    // The canary switched itself back on the failed health check: nothing left to roll back.
    expect(rollbacks).toEqual([]);
  });

  it('with maxErrors 1 and two failing hosts, stops after the second and rolls back the hosts it changed', async () => {
    const fake = useRelay(failing(['h2', 'h4']));

    const { execution, release, rollbacks } = await finish(
      await start({ strategy: { canary: 1, batch: 2, maxErrors: 1, maxConcurrency: 1 } }),
    );

    expect(execution.status).toBe('FAILED');
    expect(release.state).toBe('rolled_back');
    expect(fake.ran).not.toContain(`${release.id}.h6.deploy`);
    expect(rollbacks.map((j) => [j.hostId, j.action, j.state])).toEqual([
      ['h1', 'rollback', 'succeeded'],
      ['h3', 'rollback', 'succeeded'],
    ]);
    expect(release.counters).toMatchObject({ failed: 2, succeeded: 2, rollbackSucceeded: 2 });
  });

  it('ends failed without rollback jobs when rollback is none', async () => {
    useRelay(failing(['h2']));

    const { release, rollbacks } = await finish(
      await start({ strategy: { canary: 1, batch: 2, rollback: 'none' } }),
    );

    expect(release.state).toBe('failed');
    expect(rollbacks).toEqual([]);
  });

  it('waits at an approval gate after the canary and continues when approved', async () => {
    const fake = useRelay();
    const started = await start({ strategy: { canary: 1, batch: 5, approval: 'after-canary' } });

    // Prepare: the gate parks the release with its token, after the canary only.
    let waiting = await db.store.releases.get(started.releaseId);
    for (let i = 0; i < 400 && waiting.state !== 'waiting_approval'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      waiting = await db.store.releases.get(started.releaseId);
    }
    expect(waiting).toMatchObject({ state: 'waiting_approval', approvalWave: 1 });
    expect(fake.ran).toEqual([`${started.releaseId}.h1.deploy`]);

    // Act: what approve does.
    await db.store.releases.transition(started.releaseId, 'running', {}, ['waiting_approval']);
    await stack.sfn.send(
      new SendTaskSuccessCommand({ taskToken: waiting.approvalToken as string, output: '{}' }),
    );

    // Assess
    const { execution, release } = await finish(started);
    expect(execution.status).toBe('SUCCEEDED');
    expect(release).toMatchObject({ state: 'succeeded', counters: { succeeded: 6 } });
  });

  it('refuses a release whose target matches no host, with the reason on the record', async () => {
    const { execution, release, deploys } = await finish(
      await start({ target: { tags: { group: 'nobody' } } }),
    );

    expect(execution.status).toBe('FAILED');
    expect(release).toMatchObject({ state: 'failed', reason: 'the target matches no host' });
    expect(deploys).toEqual([]);
  });
});
