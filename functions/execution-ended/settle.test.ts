import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXECUTION_STATUS_CHANGE,
  type ExecutionStatusChangeEvent,
  rollbackExecutionName,
  STATES_EVENT_SOURCE,
} from '../../core/model/index.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../test/helpers/dynamodb.js';
import { stageDemoPackage } from '../../test/helpers/release-api.js';
import { handleExecutionEnded, settleEndedExecution } from './settle.js';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:gsm-release';
const executionArn = (name: string) => `${MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;

const ended = (
  name: string,
  input: unknown,
  status: ExecutionStatusChangeEvent['detail']['status'] = 'ABORTED',
): ExecutionStatusChangeEvent => ({
  version: '0',
  id: 'e1',
  source: STATES_EVENT_SOURCE,
  'detail-type': EXECUTION_STATUS_CHANGE,
  account: '123456789012',
  time: '2026-12-07T12:00:00Z',
  region: 'us-east-1',
  resources: [executionArn(name)],
  detail: {
    executionArn: executionArn(name),
    stateMachineArn: MACHINE,
    name,
    status,
    input: typeof input === 'string' ? input : JSON.stringify(input),
    error: null,
    cause: null,
  },
});

describe('settleEndedExecution', () => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'settle-ended');
    await stageDemoPackage(db.store);
  });
  afterAll(async () => db?.close());

  const runningRelease = async (hostIds: string[]) => {
    const release = await db.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { hosts: hostIds },
      strategy: { canary: 1 } as never,
      hostIds,
    });
    await db.store.hostLocks.acquire(release.id, hostIds);
    return db.store.releases.transition(release.id, 'running', { executionArn: executionArn(release.id) });
  };

  it('ends a running release failed and frees its hosts, once: a redelivered event changes nothing', async () => {
    const release = await runningRelease(['a1', 'a2']);
    const event = ended(release.id, { releaseId: release.id });
    event.detail.error = 'States.Timeout';

    const first = await settleEndedExecution({ store: db.store }, event);
    const again = await settleEndedExecution({ store: db.store }, event);

    expect(first).toMatchObject({ settled: 'release', id: release.id });
    const after = await db.store.releases.get(release.id);
    expect(after.state).toBe('failed');
    expect(after.reason).toBe(
      `the workflow execution ${release.id} ended ABORTED (States.Timeout) before the release was finalized`,
    );
    expect(await db.store.hostLocks.holder('a1')).toBeUndefined();
    expect(again).toEqual({ settled: 'nothing', why: `release ${release.id} is failed` });
  });

  it('ends a release an operator had asked to cancel as cancelled, with the cancel reason', async () => {
    const release = await runningRelease(['b1']);
    await db.store.releases.requestCancel(release.id, 'bad build');

    await settleEndedExecution({ store: db.store }, ended(release.id, { releaseId: release.id }));

    const after = await db.store.releases.get(release.id);
    expect(after.state).toBe('cancelled');
    expect(after.reason).toContain('bad build');
  });

  it('leaves alone a release run by another execution, and executions that succeeded', async () => {
    const release = await runningRelease(['c1']);

    const other = await settleEndedExecution(
      { store: db.store },
      ended(`${release.id}-x`, { releaseId: release.id }),
    );
    const succeeded = await settleEndedExecution(
      { store: db.store },
      ended(release.id, { releaseId: release.id }, 'SUCCEEDED'),
    );

    expect(other).toMatchObject({ settled: 'nothing' });
    expect(succeeded).toEqual({ settled: 'nothing', why: 'the execution is SUCCEEDED' });
    expect((await db.store.releases.get(release.id)).state).toBe('running');
    expect(await db.store.hostLocks.holder('c1')).toBe(release.id);
  });

  it('withdraws only the pending rollback attempt: a late event for an older attempt changes nothing', async () => {
    const release = await runningRelease(['d1']);
    await db.store.releases.transition(release.id, 'succeeded');
    await db.store.releases.requestRollback(release.id);
    await db.store.releases.endRollback(release.id, 'first attempt failed');
    const second = await db.store.releases.requestRollback(release.id);
    await db.store.hostLocks.acquire(release.id, ['d1']);
    expect(second.rollbackAttempts).toBe(2);

    const late = await settleEndedExecution(
      { store: db.store },
      ended(rollbackExecutionName(release.id, 1), { releaseId: release.id, mode: 'rollback' }),
    );
    expect(late).toMatchObject({ settled: 'nothing' });
    expect((await db.store.releases.get(release.id)).rollbackRequestedAt).toBeDefined();

    const current = await settleEndedExecution(
      { store: db.store },
      ended(rollbackExecutionName(release.id, 2), { releaseId: release.id, mode: 'rollback' }, 'FAILED'),
    );
    expect(current).toMatchObject({ settled: 'rollback' });
    const after = await db.store.releases.get(release.id);
    expect(after).toMatchObject({ state: 'succeeded' });
    expect(after.rollbackRequestedAt).toBeUndefined();
    expect(after.rollbackFailure).toContain('ended FAILED before the rollback finished');
    expect(await db.store.hostLocks.holder('d1')).toBeUndefined();
  });

  it('ends a running action failed with why', async () => {
    const action = await db.store.actions.create({ action: 'status', target: { hosts: ['e1'] } });
    await db.store.actions.transition(action.id, 'running', { executionArn: executionArn(action.id) });

    const outcome = await settleEndedExecution(
      { store: db.store },
      ended(action.id, { actionId: action.id }),
    );

    expect(outcome).toMatchObject({ settled: 'action', id: action.id });
    const after = await db.store.actions.get(action.id);
    expect(after.state).toBe('failed');
    expect(after.reason).toContain('ended ABORTED before the results were recorded');
  });

  it('puts a package its own intake left staging back to verified with why, and no other', async () => {
    const pkg = await db.store.packages.create({
      game: 'demo',
      version: '2.0.0',
      fileName: 'demo.tar.gz',
      size: 10,
      sha256: 'a'.repeat(64),
      s3Key: 'incoming/demo/2.0.0/demo.tar.gz',
      state: 'verifying',
    });
    await db.store.packages.transition(pkg.id, 'verified');
    await db.store.packages.transition(pkg.id, 'staging', { stagingExecution: 'intake-1' });
    const input = { kind: 'incoming', game: 'demo', version: '2.0.0', key: pkg.s3Key };

    const other = await settleEndedExecution({ store: db.store }, ended('intake-0', input));
    expect(other).toEqual({
      settled: 'nothing',
      why: `execution intake-0 is not the one staging package ${pkg.id}`,
    });
    expect((await db.store.packages.get(pkg.id)).state).toBe('staging');

    const own = ended('intake-1', input, 'FAILED');
    own.detail.error = 'States.TaskFailed';
    const outcome = await settleEndedExecution({ store: db.store }, own);

    expect(outcome).toMatchObject({ settled: 'package', id: pkg.id });
    const after = await db.store.packages.get(pkg.id);
    expect(after.state).toBe('verified');
    expect(after.reason).toBe(
      'staging did not finish: the workflow execution intake-1 ended FAILED (States.TaskFailed)',
    );
    expect(await settleEndedExecution({ store: db.store }, own)).toEqual({
      settled: 'nothing',
      why: `package ${pkg.id} is verified`,
    });
  });

  const verifying = (version: string) =>
    db.store.packages.create({
      game: 'demo',
      version,
      fileName: 'demo.tar.gz',
      size: 10,
      sha256: 'a'.repeat(64),
      s3Key: `incoming/demo/${version}/demo.tar.gz`,
      state: 'verifying',
    });

  it('rejects a package left verifying by the intake that held its verification, or by one when none did', async () => {
    const inputOf = (version: string) => ({ kind: 'incoming', game: 'demo', version, key: 'k' });
    const held = await verifying('3.0.0');
    await db.store.packages.claimVerification(held.id, 'intake-b');

    expect(await settleEndedExecution({ store: db.store }, ended('intake-a', inputOf('3.0.0')))).toEqual({
      settled: 'nothing',
      why: `execution intake-a is not the one verifying package ${held.id}`,
    });
    expect(await db.store.packages.get(held.id)).toMatchObject({ state: 'verifying' });

    const outcome = await settleEndedExecution({ store: db.store }, ended('intake-b', inputOf('3.0.0')));
    const reason =
      'verification did not finish: the workflow execution intake-b ended ABORTED; delete the package and push it again';
    expect(outcome).toEqual({ settled: 'package', id: held.id, reason });
    expect(await db.store.packages.get(held.id)).toMatchObject({ state: 'rejected', reason });
    expect(await settleEndedExecution({ store: db.store }, ended('intake-b', inputOf('3.0.0')))).toEqual({
      settled: 'nothing',
      why: `package ${held.id} is rejected`,
    });

    // Stopped before its Verify state claimed anything (while registering): nobody else holds it.
    const unclaimed = await verifying('3.1.0');
    expect(
      await settleEndedExecution({ store: db.store }, ended('intake-c', inputOf('3.1.0'))),
    ).toMatchObject({
      settled: 'package',
      id: unclaimed.id,
    });
    expect((await db.store.packages.get(unclaimed.id)).state).toBe('rejected');
  });

  it('leaves an unclaimed package alone for an intake that ended before it was created', async () => {
    const pkg = await verifying('3.2.0');
    const input = { kind: 'incoming', game: 'demo', version: '3.2.0', key: 'k' };
    const endedAt = (name: string, stopDate: number) => {
      const event = ended(name, input);
      return { ...event, detail: { ...event.detail, stopDate } };
    };
    const created = Date.parse(pkg.createdAt);

    // A redelivered event of the package this id named before (rejected, deleted, pushed again).
    expect(
      await settleEndedExecution({ store: db.store }, endedAt('intake-old', created - 10 * 60_000)),
    ).toEqual({
      settled: 'nothing',
      why: `execution intake-old ended before package ${pkg.id} was created`,
    });
    expect((await db.store.packages.get(pkg.id)).state).toBe('verifying');

    // Within the clocks' margin: it may be the intake that registered it, so it settles.
    expect(
      await settleEndedExecution({ store: db.store }, endedAt('intake-new', created - 5_000)),
    ).toMatchObject({
      settled: 'package',
      id: pkg.id,
    });
    expect((await db.store.packages.get(pkg.id)).state).toBe('rejected');
  });

  it('drops what is not its own: unknown records, other inputs, bad JSON, malformed events', async () => {
    const deps = { store: db.store };

    expect(await settleEndedExecution(deps, ended('r', { releaseId: 'rel-none' }))).toEqual({
      settled: 'nothing',
      why: 'release rel-none does not exist',
    });
    expect(await settleEndedExecution(deps, ended('i', { key: 'incoming/demo/1/x.tgz' }))).toMatchObject({
      settled: 'nothing',
    });
    expect(await settleEndedExecution(deps, ended('j', '{not json'))).toMatchObject({ settled: 'nothing' });
    expect(await handleExecutionEnded(deps, { detail: { status: 'ABORTED' } })).toEqual({
      settled: 'nothing',
      why: 'not a Step Functions execution status change',
    });
  });
});
