import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import type { Release } from '../../../core/model/index.js';
import { useWorkflowApi } from '../../../test/helpers/workflow-api.js';
import type { ReleaseDetail } from './releases.js';

describe('/v1/releases against the local Step Functions emulator', () => {
  const api = useWorkflowApi({
    name: 'api-releases',
    machine: 'release',
    hosts: ['h1', 'h2', 'h3', 'h4'],
    group: 'demo',
    stage: {},
    // A package still verifying: not releasable.
    setUp: (store) =>
      store.packages
        .create({
          game: 'demo',
          version: '0.9.0',
          fileName: 'demo.tar.gz',
          size: 1,
          s3Key: 'packages/demo/0.9.0/demo.tar.gz',
          state: 'verifying',
        })
        .then(() => undefined),
  });
  const call = api.call;
  const base = { package: { game: 'demo', version: '1.1.0' }, target: { tags: { group: 'demo' } } };
  const post = (body: unknown, init: { key?: string | null; headers?: Record<string, string> } = {}) =>
    call('/v1/releases', { method: 'POST', body, ...init });

  const untilEnded = async (id: string): Promise<ReleaseDetail> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const detail = (await (await call(`/v1/releases/${id}`)).json()) as ReleaseDetail;
      if (['succeeded', 'failed', 'rolled_back', 'cancelled'].includes(detail.state)) return detail;
      if (Date.now() > deadline) throw new Error(`release ${id} still ${detail.state}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('creates a release (201) that the workflow runs to succeeded, with waves and jobs in the detail', async () => {
    api.useRelay();

    const res = await post({ ...base, strategy: { canary: 1, batch: '50%' } });

    expect(res.status).toBe(201);
    const created = (await res.json()) as Release;
    expect(created).toMatchObject({
      state: 'pending',
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
    });
    expect(created.strategy).toMatchObject({ canary: 1, batch: '50%', maxErrors: 0, rollback: 'auto' });
    const detail = await untilEnded(created.id);
    expect(detail).toMatchObject({ state: 'succeeded', progress: { total: 4, succeeded: 4 } });
    expect(detail.waves.map((w) => [w.kind, w.hostIds, w.progress.succeeded])).toEqual([
      ['canary', ['h1'], 1],
      ['batch', ['h2', 'h3'], 2],
      ['batch', ['h4'], 1],
    ]);
    expect(detail.jobs.map((j) => j.action)).toEqual(['deploy', 'deploy', 'deploy', 'deploy']);
    expect(detail).not.toHaveProperty('approvalToken');
  });

  it('starts one release for a repeated Idempotency-Key', async () => {
    api.useRelay();
    const headers = { 'idempotency-key': 'ship-1.1.0' };

    const first = (await (await post(base, { headers })).json()) as Release;
    const again = await post(base, { headers });

    expect(again.status).toBe(201);
    expect(((await again.json()) as Release).id).toBe(first.id);
    await untilEnded(first.id);
    const executions = await api.stack.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: api.stack.stateMachineArn }),
    );
    expect(executions.executions?.filter((e) => e.name === first.id)).toHaveLength(1);
  });

  it.each([
    [400, 'E_VALIDATION', { ...base, strategy: { approval: 'sometimes' } }, 'strategy.approval'],
    [400, 'E_VALIDATION', { ...base, strategy: { maxErrors: 4 } }, 'allows every one of the 4 target hosts'],
    [400, 'E_VALIDATION', { ...base, target: { tags: { group: 'nobody' } } }, 'the target matches no host'],
    [400, 'E_VALIDATION', { ...base, target: { hosts: ['h1', 'ghost'] } }, 'unknown host(s): ghost'],
    [404, 'E_NOT_FOUND', { ...base, package: { game: 'demo', version: '9.9.9' } }, "'demo@9.9.9'"],
    [409, 'E_CONFLICT', { ...base, package: { game: 'demo', version: '0.9.0' } }, 'is verifying, not staged'],
  ])('answers %i %s and starts nothing for bad input (%#)', async (status, code, body, message) => {
    const before = (await api.store.releases.list({ limit: 500 })).items.length;

    const res = await post(body);

    expect(res.status).toBe(status);
    const problem = (await res.json()) as { code: string; error: string };
    expect(problem.code).toBe(code);
    expect(problem.error).toContain(message);
    expect((await api.store.releases.list({ limit: 500 })).items).toHaveLength(before);
  });

  it('refuses a viewer (403) and a caller without a key (401)', async () => {
    expect((await post(base, { key: api.keys.viewer })).status).toBe(403);
    expect((await post(base, { key: null })).status).toBe(401);
  });

  const untilWaiting = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      const detail = (await (await call(`/v1/releases/${id}`)).json()) as ReleaseDetail;
      if (detail.state === 'waiting_approval') return detail;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`release ${id} never waited for approval`);
  };
  const gated = { ...base, strategy: { canary: 1, batch: 3, approval: 'after-canary' } };

  it('waits at the gate after the canary and goes on when approved', async () => {
    api.useRelay();
    const { id } = (await (await post(gated)).json()) as Release;
    const waiting = await untilWaiting(id);
    expect(waiting).toMatchObject({ approvalWave: 1, progress: { succeeded: 1, queued: 3 } });
    expect(waiting).not.toHaveProperty('approvalToken');

    const res = await call(`/v1/releases/${id}/approve`, { method: 'POST', body: {} });

    expect(res.status).toBe(200);
    expect(await untilEnded(id)).toMatchObject({ state: 'succeeded', progress: { succeeded: 4 } });
  });

  it('rolls the canary back when the gate is rejected', async () => {
    api.useRelay();
    const { id } = (await (await post(gated)).json()) as Release;
    await untilWaiting(id);

    const res = await call(`/v1/releases/${id}/reject`, { method: 'POST', body: { reason: 'bad map' } });

    expect(res.status).toBe(200);
    const ended = await untilEnded(id);
    expect(ended).toMatchObject({ state: 'rolled_back', reason: 'approval rejected: bad map' });
    expect(ended.jobs.filter((j) => j.action === 'rollback').map((j) => [j.hostId, j.state])).toEqual([
      ['h1', 'succeeded'],
    ]);
  });

  it('cancels a waiting release, and refuses approve on a release that is not waiting (409)', async () => {
    api.useRelay();
    const { id } = (await (await post(gated)).json()) as Release;
    await untilWaiting(id);

    const cancelled = await call(`/v1/releases/${id}/cancel`, { method: 'POST', body: {} });
    const approve = await call(`/v1/releases/${id}/approve`, { method: 'POST', body: {} });

    expect(cancelled.status).toBe(200);
    expect(approve.status).toBe(409);
    expect(((await approve.json()) as { code: string }).code).toBe('E_STATE_CONFLICT');
    // Ended only after the workflow rolled the canary back: cancelled, with the reason and what it undid.
    expect(await untilEnded(id)).toMatchObject({
      state: 'cancelled',
      reason: 'cancelled by an operator; 1 host(s) rolled back',
    });
    // The failed gate lets the workflow roll the canary back and end, keeping cancelled.
    for (let i = 0; i < 400; i++) {
      const { executions } = await api.stack.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: api.stack.stateMachineArn }),
      );
      if (executions?.find((e) => e.name === id)?.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const ended = (await (await call(`/v1/releases/${id}`)).json()) as ReleaseDetail;
    expect(ended.state).toBe('cancelled');
    expect(ended.jobs.filter((j) => j.action === 'rollback').map((j) => j.hostId)).toEqual(['h1']);
  });

  it('answers 404 for an unknown release', async () => {
    const res = await call('/v1/releases/rel-nope');
    expect(res.status).toBe(404);
  });
});
