import { DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { executionConsoleUrl } from '../../../core/console-link.js';
import type { Release } from '../../../core/model/index.js';
import { useWorkflowApi } from '../../../test/helpers/workflow-api.js';
import { type ReleaseWorkflow, releaseExecutionArn } from './release-workflow.js';
import type { ReleaseDetail } from './releases.js';

describe('GET /v1/releases/:id/workflow against the local Step Functions emulator', () => {
  const api = useWorkflowApi({
    name: 'api-release-workflow',
    machine: 'release',
    hosts: ['h1', 'h2', 'h3'],
    group: 'demo',
    stage: {},
  });
  const call = api.call;
  const release = async (strategy: Record<string, unknown>) => {
    const res = await call('/v1/releases', {
      method: 'POST',
      body: { package: { game: 'demo', version: '1.1.0' }, target: { tags: { group: 'demo' } }, strategy },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as Release).id;
  };
  const until = async (id: string, states: readonly string[]) => {
    for (let i = 0; i < 600; i++) {
      const detail = (await (await call(`/v1/releases/${id}`)).json()) as ReleaseDetail;
      if (states.includes(detail.state)) return detail;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`release ${id} never reached ${states.join('|')}`);
  };
  const workflowOf = async (id: string, key?: string) => {
    const res = await call(`/v1/releases/${id}/workflow`, key ? { key } : {});
    expect(res.status).toBe(200);
    return (await res.json()) as ReleaseWorkflow;
  };

  it('answers the definition and every state succeeded or not run for a release that succeeded', async () => {
    api.useRelay();
    const id = await release({ canary: 1, batch: '100%' });
    await until(id, ['succeeded']);

    // Any role reads it.
    const workflow = await workflowOf(id, api.keys.viewer);
    const machine = await api.stack.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: api.stack.stateMachineArn }),
    );

    expect(workflow.definition).toEqual(JSON.parse(machine.definition!));
    expect(workflow.executionArn).toBe(releaseExecutionArn(api.stack.stateMachineArn, id));
    expect(workflow.consoleUrl).toBe(executionConsoleUrl(workflow.executionArn));
    expect(workflow.states).toMatchObject({
      PlanWaves: 'succeeded',
      Gate: 'succeeded',
      RunWave: 'succeeded',
      RunShard: 'succeeded',
      ShardDone: 'succeeded',
      Decide: 'succeeded',
      Finalize: 'succeeded',
      ReleaseSucceeded: 'succeeded',
      AwaitApproval: 'not-started',
      ShardFailed: 'not-started',
      RunRollback: 'not-started',
      RollbackRunShard: 'not-started',
      ReleaseFailed: 'not-started',
    });
  });

  it('shows the approval gate running while the release waits, then caught when it is rejected', async () => {
    api.useRelay();
    const id = await release({ canary: 1, batch: 2, approval: 'after-canary' });
    await until(id, ['waiting_approval']);

    const waiting = await workflowOf(id);
    const reject = await call(`/v1/releases/${id}/reject`, { method: 'POST', body: { reason: 'no' } });
    await until(id, ['rolled_back']);
    const rejected = await workflowOf(id);

    expect(waiting.states).toMatchObject({
      RunWave: 'succeeded',
      AwaitApproval: 'running',
      Finalize: 'not-started',
    });
    expect(reject.status).toBe(200);
    expect(rejected.states).toMatchObject({
      AwaitApproval: 'caught',
      RollbackWanted: 'succeeded',
      RunRollback: 'succeeded',
      RollbackRunShard: 'succeeded',
      Finalize: 'succeeded',
    });
  });

  it('answers the machine with nothing run for a release whose workflow never started', async () => {
    const stored = await api.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { hosts: ['h1'] },
      strategy: (await api.store.releases.list({ limit: 1 })).items[0]!.strategy,
      createdBy: 'test',
    });

    const workflow = await workflowOf(stored.id);

    expect(Object.keys(workflow.definition.States as object)).toEqual(
      expect.arrayContaining(['PlanWaves', 'RunWave']),
    );
    expect(workflow.executionArn).toBeUndefined();
    expect(Object.values(workflow.states).every((status) => status === 'not-started')).toBe(true);
    expect(Object.keys(workflow.states)).toContain('RunShard');
  });

  it('answers 404 for an unknown release and 401 without a key', async () => {
    const unknown = await call('/v1/releases/rel-unknown/workflow');
    const anonymous = await call('/v1/releases/rel-unknown/workflow', { key: null });

    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('E_NOT_FOUND');
    expect(anonymous.status).toBe(401);
  });
});

describe('releaseExecutionArn', () => {
  it('names the execution after the release on the release machine', () => {
    expect(releaseExecutionArn('arn:aws:states:eu-west-1:123456789012:stateMachine:gsm-release', 'r1')).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:gsm-release:r1',
    );
  });

  it('refuses an ARN that is not a state machine', () => {
    expect(() => releaseExecutionArn('arn:aws:states:eu-west-1:1:activity:x', 'r1')).toThrow(
      /not a state machine/,
    );
  });
});
