import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';
import type { Action } from '../../../core/model/index.js';
import { useWorkflowApi } from '../../../test/helpers/workflow-api.js';
import { createApp } from '../app.js';
import type { ActionDetail } from './actions.js';

type AppDeps = Parameters<typeof createApp>[0];

describe('/v1/actions against the local Step Functions emulator', () => {
  const api = useWorkflowApi({
    name: 'api-actions',
    machine: 'action',
    hosts: ['h1', 'h2', 'h3'],
    group: 'demo',
  });
  const call = api.call;
  const post = (body: unknown, extra: { key?: string | null; headers?: Record<string, string> } = {}) =>
    call('/v1/actions', { method: 'POST', body, ...extra });

  const waitForEnd = async (id: string): Promise<ActionDetail> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const detail = (await (await call(`/v1/actions/${id}`)).json()) as ActionDetail;
      if (['succeeded', 'failed', 'cancelled'].includes(detail.state)) return detail;
      if (Date.now() > deadline) throw new Error(`action ${id} still ${detail.state}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('accepts an action with 202, runs it, and shows every host job', async () => {
    api.useRelay();

    const res = await post({
      action: 'status',
      target: { tags: { group: 'demo' } },
      strategy: { maxErrors: '10%' },
    });

    expect(res.status).toBe(202);
    const accepted = (await res.json()) as Action;
    expect(accepted).toMatchObject({ action: 'status', state: 'pending', strategy: { maxErrors: '10%' } });
    const done = await waitForEnd(accepted.id);
    expect(done).toMatchObject({
      state: 'succeeded',
      hostIds: ['h1', 'h2', 'h3'],
      counters: { total: 3, succeeded: 3 },
      progress: { total: 3, succeeded: 3 },
      executionArn: expect.stringContaining(`:execution:gsm-action:${accepted.id}`),
    });
    expect(done.jobs.map((j) => [j.hostId, j.state])).toEqual([
      ['h1', 'succeeded'],
      ['h2', 'succeeded'],
      ['h3', 'succeeded'],
    ]);
  });

  it('shows a failed host’s reason in its job', async () => {
    api.useRelay({
      decide: (job) =>
        job.hostId === 'h2'
          ? { state: 'failed', error: { code: 'E_TIMEOUT', message: 'agent did not answer' } }
          : { state: 'succeeded' },
    });
    const accepted = (await (
      await post({ action: 'restart', target: { hosts: ['h1', 'h2'] } })
    ).json()) as Action;

    const done = await waitForEnd(accepted.id);

    expect(done.state).toBe('failed');
    expect(done.jobs.find((j) => j.hostId === 'h2')?.error).toEqual({
      code: 'E_TIMEOUT',
      message: 'agent did not answer',
    });
  });

  it('starts one action for a repeated Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'deploy-42' };
    const first = (await (
      await post({ action: 'stop', target: { hosts: ['h3'] } }, { headers })
    ).json()) as Action;
    const again = await post({ action: 'stop', target: { hosts: ['h3'] } }, { headers });

    expect(again.status).toBe(202);
    expect(((await again.json()) as Action).id).toBe(first.id);
    const executions = await api.stack.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: api.stack.stateMachineArn }),
    );
    expect(executions.executions?.filter((e) => e.name === first.id)).toHaveLength(1);
  });

  it.each([
    ['an action not in the list', { action: 'exec', target: { hosts: ['h1'] } }, 'action'],
    ['an empty host list', { action: 'start', target: { hosts: [] } }, 'target.hosts'],
    ['an empty tag selector', { action: 'start', target: { tags: {} } }, 'target.tags'],
    [
      'a percentage over 100',
      { action: 'start', target: { hosts: ['h1'] }, strategy: { maxErrors: '150%' } },
      'strategy.maxErrors',
    ],
    [
      'a concurrency of 0',
      { action: 'start', target: { hosts: ['h1'] }, strategy: { maxConcurrency: 0 } },
      'strategy.maxConcurrency',
    ],
    ['an unknown field', { action: 'start', target: { hosts: ['h1'] }, command: 'rm -rf /' }, '(body)'],
  ])('refuses %s with 400 naming the field', async (_label, body, path) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; issues: { path: string }[] };
    expect(problem.code).toBe('E_VALIDATION');
    expect(problem.issues.map((i) => i.path)).toContain(path);
  });

  it('refuses a viewer with 403 and no key with 401', async () => {
    const body = { action: 'start', target: { hosts: ['h1'] } };
    expect((await post(body, { key: api.keys.viewer })).status).toBe(403);
    expect((await post(body, { key: null })).status).toBe(401);
  });

  it('lists actions newest first and answers an unknown id with 404', async () => {
    const list = (await (await call('/v1/actions', { key: api.keys.viewer })).json()) as { items: Action[] };
    const created = list.items.map((a) => a.createdAt);
    expect(created.length).toBeGreaterThan(1);
    expect(created).toEqual([...created].sort().reverse());
    expect((await call('/v1/actions/act-nope')).status).toBe(404);
  });

  it('answers 503 where no action workflow is deployed', async () => {
    const bare = createApp({
      store: api.store,
      logger: createLogger('test', { level: 'silent' }),
    } as Partial<AppDeps> as AppDeps);
    const res = await bare.request('http://localhost/v1/actions', {
      method: 'POST',
      headers: { authorization: `Bearer ${api.keys.operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'status', target: { hosts: ['h1'] } }),
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'E_UNAVAILABLE' });
  });
});
