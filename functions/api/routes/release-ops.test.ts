import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HostJobSpec, Release } from '../../../core/model/index.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import {
  createHosts,
  DEMO_INSTANCE,
  type LoopbackServer,
  serveLoopback,
  stageDemoPackage,
  workflowApp,
} from '../../../test/helpers/release-api.js';
import {
  type ActionWorkflowStack,
  type FakeOutcome,
  type FakeRelay,
  type FakeRelayOptions,
  startFakeRelay,
} from '../../../workflows/action.fixture.js';
import { startReleaseWorkflow } from '../../../workflows/release.fixture.js';
import type { ReleaseDetail } from './releases.js';

const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
const TERMINAL = ['succeeded', 'failed', 'rolled_back', 'cancelled'];

/** Cancel, rollback, busy hosts and the event stream, over a real HTTP server and the emulator. */
describe('release operations over HTTP', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let relay: FakeRelay | undefined;
  let server: LoopbackServer;
  let base: string;
  let key: string;

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'api-release-ops');
    await createHosts(db.store, HOSTS, 'ops', [DEMO_INSTANCE]);
    await stageDemoPackage(db.store);
    stack = await startReleaseWorkflow(db.store);
    const app = workflowApp(db.store, stack);
    server = await serveLoopback(app.fetch);
    base = server.base;
    key = (await db.store.apiKeys.create({ name: 'ops', role: 'operator' })).key;
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });
  /** The stand-in relay of this test, settling each job as `decide` says; stopped after it. */
  const useRelay = (decide?: FakeRelayOptions['decide']): FakeRelay => {
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store, decide });
    return relay;
  };
  afterAll(async () => {
    await server?.close();
    await stack?.close();
    await db?.close();
  });

  const call = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const create = async (target: unknown, strategy: unknown) => {
    const res = await call('/v1/releases', {
      method: 'POST',
      body: { package: { game: 'demo', version: '1.1.0' }, target, strategy },
    });
    return { res, body: (await res.json()) as Release & { error?: string; code?: string } };
  };
  const detail = async (id: string) => (await (await call(`/v1/releases/${id}`)).json()) as ReleaseDetail;
  const untilEnded = async (id: string): Promise<ReleaseDetail> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const release = await detail(id);
      if (TERMINAL.includes(release.state) && !release.rollbackRequestedAt) return release;
      if (Date.now() > deadline) throw new Error(`release ${id} still ${release.state}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const untilExecutionsEnd = async (id: string) => {
    for (let i = 0; i < 800; i++) {
      const { executions } = await stack.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn }),
      );
      if (!executions?.some((e) => e.name?.startsWith(id) && e.status === 'RUNNING')) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`an execution of ${id} still runs`);
  };
  /** A relay whose deploy on `host` waits until `open()`; `started` resolves when it begins. */
  const holdOn = (host: string) => {
    let open: () => void = () => undefined;
    let begun: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const started = new Promise<void>((resolve) => {
      begun = resolve;
    });
    const decide = async (job: HostJobSpec): Promise<FakeOutcome> => {
      if (job.action === 'deploy' && job.hostId === host) {
        begun();
        await gate;
      }
      return { state: 'succeeded' };
    };
    return { decide, started, open: () => open() };
  };

  it('cancel mid-wave: dispatches nothing more, lets the host in flight finish, rolls back, ends cancelled', async () => {
    const held = holdOn('h3');
    const fake = useRelay(held.decide);
    const { body: created } = await create(
      { tags: { group: 'ops' } },
      { canary: 1, batch: 5, maxConcurrency: 1 },
    );
    await held.started;

    const res = await call(`/v1/releases/${created.id}/cancel`, {
      method: 'POST',
      body: { reason: 'maintenance window' },
    });
    const requested = (await res.json()) as Release;
    held.open();

    expect(res.status).toBe(200);
    expect(requested).toMatchObject({ state: 'running', cancelReason: 'maintenance window' });
    expect(requested.cancelRequestedAt).toBeDefined();
    const ended = await untilEnded(created.id);
    expect(ended).toMatchObject({ state: 'cancelled', reason: 'maintenance window; 3 host(s) rolled back' });
    expect(fake.ran.filter((job) => job.endsWith('.deploy'))).toEqual(
      ['h1', 'h2', 'h3'].map((h) => `${created.id}.${h}.deploy`),
    );
    const deploys = ended.jobs.filter((j) => j.action === 'deploy');
    expect(deploys.filter((j) => j.state === 'cancelled').map((j) => [j.hostId, j.error?.code])).toEqual([
      ['h4', 'E_STOPPED'],
      ['h5', 'E_STOPPED'],
      ['h6', 'E_STOPPED'],
    ]);
    expect(ended.jobs.filter((j) => j.action === 'rollback').map((j) => [j.hostId, j.state])).toEqual([
      ['h1', 'succeeded'],
      ['h2', 'succeeded'],
      ['h3', 'succeeded'],
    ]);
    expect(ended.versions).toEqual({ '1.0.0': 6 });
    // The hosts are free again: another release may take them.
    expect(await db.store.hostLocks.holder('h1')).toBeUndefined();
  });

  it('refuses a release on a host another release holds (409 naming both), starting nothing', async () => {
    const held = holdOn('h2');
    useRelay(held.decide);
    const { body: first } = await create({ hosts: ['h1', 'h2'] }, { canary: 1 });
    await held.started;
    const before = (await db.store.releases.list({ limit: 500 })).items.length;

    const { res, body } = await create({ hosts: ['h5', 'h2', 'h6'] }, { canary: 1 });

    expect(res.status).toBe(409);
    expect(body.code).toBe('E_CONFLICT');
    expect(body.error).toContain(`host 'h2' is busy in release '${first.id}'`);
    expect((await db.store.releases.list({ limit: 500 })).items).toHaveLength(before);
    expect(await db.store.hostLocks.holder('h5')).toBeUndefined();
    held.open();
    expect((await untilEnded(first.id)).state).toBe('succeeded');
    // Ended, the first release gave its hosts back: the same request now goes through.
    const again = await create({ hosts: ['h5', 'h2', 'h6'] }, { canary: 1 });
    expect(again.res.status).toBe(201);
    expect((await untilEnded(again.body.id)).state).toBe('succeeded');
  });

  it('answers two concurrent requests with one Idempotency-Key with one release, not a busy host', async () => {
    useRelay();
    const post = () =>
      fetch(`${base}/v1/releases`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': 'ship-once',
        },
        body: JSON.stringify({
          package: { game: 'demo', version: '1.1.0' },
          target: { hosts: ['h4', 'h5'] },
        }),
      });

    const [a, b] = await Promise.all([post(), post()]);

    expect([a.status, b.status]).toEqual([201, 201]);
    const [first, second] = (await Promise.all([a.json(), b.json()])) as Release[];
    expect(second?.id).toBe(first?.id);
    expect((await untilEnded(first?.id as string)).state).toBe('succeeded');
  });

  it('rolls back an ended release through a rollback-only run, then answers 409 to another', async () => {
    useRelay();
    const { body: created } = await create({ hosts: ['h1', 'h2', 'h3'] }, { canary: 1, batch: 2 });
    const done = await untilEnded(created.id);
    expect(done).toMatchObject({ state: 'succeeded', versions: { '1.1.0': 3 } });
    expect(done.hostVersions).toEqual({ h1: '1.1.0', h2: '1.1.0', h3: '1.1.0' });
    // No emulator endpoint in this process's environment, so the link is the AWS console's.
    expect(done.consoleUrl).toContain(encodeURIComponent(done.executionArn as string));

    const res = await call(`/v1/releases/${created.id}/rollback`, { method: 'POST', body: {} });

    expect(res.status).toBe(200);
    expect(((await res.json()) as Release).rollbackRequestedAt).toBeDefined();
    await untilExecutionsEnd(created.id);
    const back = await detail(created.id);
    expect(back).toMatchObject({
      state: 'rolled_back',
      reason: 'rolled back by an operator: 3 of 3 host(s) back on their previous version',
      versions: { '1.0.0': 3 },
      counters: { succeeded: 3, rollbackSucceeded: 3 },
    });
    const again = await call(`/v1/releases/${created.id}/rollback`, { method: 'POST', body: {} });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toContain('is already rolled back');
  });

  it('answers 409 to a rollback of a release that changed no host, and to approve when not waiting', async () => {
    relay = startFakeRelay({
      sfn: stack.sfn,
      activityArn: stack.activityArn,
      store: db.store,
      decide: () => ({ state: 'failed', error: { code: 'E_HEALTH_CHECK_FAILED', message: 'no answer' } }),
    });
    const { body: created } = await create({ hosts: ['h4', 'h5'] }, { canary: 1 });
    expect((await untilEnded(created.id)).state).toBe('rolled_back');
    const approve = await call(`/v1/releases/${created.id}/approve`, { method: 'POST', body: {} });
    expect(approve.status).toBe(409);
    const cancel = await call(`/v1/releases/${created.id}/cancel`, { method: 'POST', body: {} });
    expect(cancel.status).toBe(409);
    expect(((await cancel.json()) as { error: string }).error).toContain(
      'is rolled_back: there is nothing to cancel',
    );

    const failedOnly = await db.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { hosts: ['h6'] },
      strategy: {},
    });
    await db.store.releases.transition(failedOnly.id, 'failed', { reason: 'refused' });
    const res = await call(`/v1/releases/${failedOnly.id}/rollback`, { method: 'POST', body: {} });

    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toContain(
      'changed no host: there is nothing to roll back',
    );
  });

  it('with rollback none, refuses a rollback of the running release (409), then rolls back the cancelled one', async () => {
    const held = holdOn('h2');
    useRelay(held.decide);
    const { body: created } = await create(
      { hosts: ['h1', 'h2', 'h3'] },
      { canary: 1, batch: 1, rollback: 'none' },
    );
    await held.started;

    const refused = await call(`/v1/releases/${created.id}/rollback`, { method: 'POST', body: {} });
    const cancelled = await call(`/v1/releases/${created.id}/cancel`, { method: 'POST', body: {} });
    held.open();
    const ended = await untilEnded(created.id);
    const rolled = await call(`/v1/releases/${created.id}/rollback`, { method: 'POST', body: {} });
    await untilExecutionsEnd(created.id);

    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toContain('strategy rollback none');
    expect(cancelled.status).toBe(200);
    expect(ended).toMatchObject({
      state: 'cancelled',
      reason: 'cancelled by an operator',
      versions: { '1.1.0': 2, '1.0.0': 1 },
    });
    expect(rolled.status).toBe(200);
    const back = await detail(created.id);
    expect(back).toMatchObject({ state: 'rolled_back', versions: { '1.0.0': 3 } });
    expect(back.jobs.filter((j) => j.action === 'rollback').map((j) => [j.hostId, j.state])).toEqual([
      ['h1', 'succeeded'],
      ['h2', 'succeeded'],
    ]);
  });

  it('streams a release as Server-Sent Events through to end', async () => {
    useRelay();
    const { body: created } = await create({ hosts: ['h1', 'h2'] }, { canary: 1, batch: 1 });

    const res = await call(`/v1/releases/${created.id}/events`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events: { event: string; id: number; data: Record<string, unknown> }[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const deadline = setTimeout(() => void reader.cancel(), 20_000);
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffer += decoder.decode(read.value, { stream: true });
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((line) => line.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        if (field('event')) {
          events.push({
            event: field('event') as string,
            id: Number(field('id')),
            data: JSON.parse(field('data') ?? '{}'),
          });
        }
      }
    }
    clearTimeout(deadline);

    expect(events[0]).toMatchObject({ event: 'release', data: { id: created.id } });
    expect(events[0]?.data).not.toHaveProperty('jobs');
    expect(events[0]?.data).not.toHaveProperty('approvalToken');
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { state: 'succeeded' } });
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const lastRelease = events.filter((e) => e.event === 'release').at(-1);
    expect(lastRelease?.data).toMatchObject({ state: 'succeeded', progress: { total: 2, succeeded: 2 } });
    const jobStates = (host: string) =>
      events.filter((e) => e.event === 'job' && e.data.hostId === host).map((e) => e.data.state);
    expect(jobStates('h1').at(-1)).toBe('succeeded');
    expect(jobStates('h2').at(-1)).toBe('succeeded');
    const endAt = events.findIndex((e) => e.event === 'end');
    expect(events.slice(endAt + 1)).toEqual([]);
  });

  it('answers 404 for the events of an unknown release', async () => {
    expect((await call('/v1/releases/rel-nope/events')).status).toBe(404);
  });
});
