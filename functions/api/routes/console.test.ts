import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { createApp } from '../app.js';
import { consoleDirCandidates, consoleRoutes } from './console.js';

describe('/console static files', () => {
  let dir: string;
  let app: Hono;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gsm-console-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>gsm</title>');
    await writeFile(join(dir, 'assets', 'app-ABC123.js'), 'console.log(1)');
    await writeFile(join(dir, 'assets', 'app-ABC123.css'), 'body{}');
    await writeFile(join(dir, 'favicon.svg'), '<svg/>');
    await writeFile(join(tmpdir(), 'gsm-console-secret.txt'), 'outside');
    app = new Hono().route('/console', consoleRoutes({ dir }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(join(tmpdir(), 'gsm-console-secret.txt'), { force: true });
  });

  const get = (path: string) => app.request(`http://localhost${path}`);

  it.each(['/console', '/console/', '/console/releases/rel-1', '/console/hosts?tag=group%3Ddemo'])(
    'answers index.html for the page %s (single-page app), never cached without revalidation',
    async (path) => {
      const res = await get(path);

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await res.text()).toContain('<title>gsm</title>');
    },
  );

  it.each([
    [
      '/console/assets/app-ABC123.js',
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ],
    ['/console/assets/app-ABC123.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable'],
    ['/console/favicon.svg', 'image/svg+xml', 'no-cache'],
  ])('serves %s as %s with cache %s', async (path, type, cache) => {
    const res = await get(path);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('cache-control')).toBe(cache);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it.each([
    '/console/assets/app-MISSING.js',
    '/console/../gsm-console-secret.txt',
    '/console/%2e%2e/gsm-console-secret.txt',
    '/console/assets/%2e%2e%2f%2e%2e%2fgsm-console-secret.txt',
    '/console/%E0%A4%A.js',
  ])('answers 404 for a missing asset or a path outside the console: %s', async (path) => {
    const res = await get(path);

    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('outside');
  });

  it('answers 503 naming the build step when the console is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gsm-console-empty-'));
    const unbuilt = new Hono().route('/console', consoleRoutes({ dir: empty }));

    const res = await unbuilt.request('http://localhost/console/');

    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build');
    await rm(empty, { recursive: true, force: true });
  });

  it('looks next to the Lambda bundle first, then dist/console from dist/ or from the sources', () => {
    expect(consoleDirCandidates('/var/task')).toEqual(['/var/task/console', '/console', '/dist/console']);
    expect(consoleDirCandidates('/repo/dist/functions/api/routes')[1]).toBe('/repo/dist/console');
    expect(consoleDirCandidates('/repo/functions/api/routes')[2]).toBe('/repo/dist/console');
  });
});

describe('GET /v1/session', () => {
  let db: TestDynamoDb;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'api-session');
    app = createApp({ store: db.store, logger: createLogger('test', { level: 'silent' }) } as Partial<
      Parameters<typeof createApp>[0]
    > as Parameters<typeof createApp>[0]);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('names the calling key and its role', async () => {
    const created = await db.store.apiKeys.create({ name: 'night shift', role: 'operator' });

    const res = await app.request('http://localhost/v1/session', {
      headers: { authorization: `Bearer ${created.key}` },
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keyId: created.info.id, name: 'night shift', role: 'operator' });
  });

  it('answers 401 for a wrong key and for none, and serves /console without one', async () => {
    const wrong = await app.request('http://localhost/v1/session', {
      headers: { authorization: 'Bearer gsm_not-a-key' },
    });
    const none = await app.request('http://localhost/v1/session');
    const page = await app.request('http://localhost/console/');

    expect(wrong.status).toBe(401);
    expect(none.status).toBe(401);
    expect(page.status).not.toBe(401);
  });
});
