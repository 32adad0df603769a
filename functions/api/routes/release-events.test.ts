import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';
import type { Store } from '../../../core/store/types.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { type LoopbackServer, serveLoopback } from '../../../test/helpers/release-api.js';
import { router } from '../router.js';
import { releaseEventRoutes } from './release-events.js';

/** The stream's own limits, with short settings: a bounded life, keep-alives, no polling after a disconnect. */
describe('the release event stream', () => {
  let db: TestDynamoDb;
  let server: LoopbackServer;
  let base: string;
  const reads = new Map<string, number>();

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'release-events');
    // The real store, counting how often each release is read.
    const releases: Store['releases'] = {
      ...db.store.releases,
      get: async (id) => {
        reads.set(id, (reads.get(id) ?? 0) + 1);
        return db.store.releases.get(id);
      },
    };
    const logger = createLogger('test', { level: 'silent' });
    const app = router();
    app.use(async (c, next) => {
      c.set('logger', logger);
      await next();
    });
    app.route(
      '/v1/releases',
      releaseEventRoutes({ ...db.store, releases }, { pollMs: 40, keepAliveMs: 100, maxLifeMs: 600 }),
    );
    server = await serveLoopback(app.fetch);
    base = server.base;
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  const running = async () => {
    const release = await db.store.releases.create({
      game: 'demo',
      version: '1.1.0',
      packageId: 'demo@1.1.0',
      target: { hosts: ['h1'] },
      strategy: {},
    });
    await db.store.releases.transition(release.id, 'running');
    return release.id;
  };
  const readAll = async (res: Response, limitMs: number) => {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void reader.cancel();
    }, limitMs);
    let text = '';
    const decoder = new TextDecoder();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      text += decoder.decode(read.value, { stream: true });
    }
    clearTimeout(timer);
    return { text, timedOut };
  };

  it('ends a stream after its life without an end event, keeping it alive meanwhile', async () => {
    const id = await running();

    const { text, timedOut } = await readAll(await fetch(`${base}/v1/releases/${id}/events`), 10_000);

    // The server closed it, not the reader's own limit.
    expect(timedOut).toBe(false);
    expect(text.startsWith('event: release\n')).toBe(true);
    expect(text).toContain(': keep-alive\n\n');
    expect(text).not.toContain('event: end');
  });

  it('sends a release event again when the record changes, then end once it ended', async () => {
    const id = await running();
    const res = await fetch(`${base}/v1/releases/${id}/events`);
    const reading = readAll(res, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 150));

    await db.store.releases.transition(id, 'succeeded', { reason: 'done' });

    const { text } = await reading;
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).toEqual(['release', 'release', 'end']);
    expect(text).toContain('data: {"state":"succeeded"}');
  });

  it('stops reading the store once the client went away', async () => {
    const id = await running();
    const res = await fetch(`${base}/v1/releases/${id}/events`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();

    await reader.cancel();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = reads.get(id) ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(after).toBeGreaterThan(0);
    expect(reads.get(id)).toBe(after);
  });
});
