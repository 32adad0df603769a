import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveAgentSecret } from '../../protocol/index.js';
import { startTestApi, TEST_AGENT_MASTER_SECRET, type TestApi } from '../../test/helpers/api.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api.close());

const call = (
  path: string,
  init: {
    method?: string;
    key?: string | null;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
  } = {},
) => {
  const headers: Record<string, string> = { ...init.headers };
  const key = init.key === undefined ? api.keys.admin : init.key;
  if (key) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (init.raw !== undefined || init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = init.raw ?? JSON.stringify(init.body);
  }
  return api.app.request(`http://localhost${path}`, { method: init.method ?? 'GET', headers, body });
};

const host = (id: string, tags: Record<string, string> = {}) => ({
  id,
  address: '127.0.0.1',
  port: 7420,
  tags,
});

describe('authentication and roles', () => {
  it('answers health without a key', async () => {
    const res = await call('/v1/health', { key: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('says how long each answer took inside the app, refusals too (Server-Timing)', async () => {
    for (const res of [await call('/v1/health', { key: null }), await call('/v1/hosts', { key: null })]) {
      expect(res.headers.get('server-timing')).toMatch(/^app;dur=\d+\.\d$/);
    }
  });

  it('refuses a request without a key with 401 and a problem body', async () => {
    const res = await call('/v1/hosts', { key: null });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'E_UNAUTHORIZED', requestId: expect.any(String) });
  });

  it.each([
    ['garbage', 'not-a-key'],
    ['a well-formed key that was never issued', `gsm_aaaaaaaaaaaa_${'A'.repeat(43)}`],
  ])('refuses %s with 401', async (_label, key) => {
    const res = await call('/v1/hosts', { key });
    expect(res.status).toBe(401);
  });

  it('refuses a viewer writing with 403', async () => {
    const res = await call('/v1/hosts', { method: 'POST', key: api.keys.viewer, body: host('viewer-try') });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'E_FORBIDDEN' });
  });

  it('lets only admins manage keys', async () => {
    expect((await call('/v1/keys', { key: api.keys.operator })).status).toBe(403);
    expect((await call('/v1/keys')).status).toBe(200);
  });

  it('makes a revoked key useless at once', async () => {
    const created = await call('/v1/keys', { method: 'POST', body: { name: 'ci', role: 'viewer' } });
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    expect((await call('/v1/hosts', { key })).status).toBe(200);
    expect((await call(`/v1/keys/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await call('/v1/hosts', { key })).status).toBe(401);
  });

  it('never lists key hashes or keys', async () => {
    const body = JSON.stringify(await (await call('/v1/keys')).json());
    expect(body).not.toMatch(/"hash"|"key"/);
  });
});

describe('hosts', () => {
  it('creates a host (201), then refuses the same id (409)', async () => {
    const created = await call('/v1/hosts', { method: 'POST', key: api.keys.operator, body: host('eu-1') });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      id: 'eu-1',
      role: 'game',
      protocol: 'v2',
      status: 'unknown',
    });
    const again = await call('/v1/hosts', { method: 'POST', body: host('eu-1') });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'E_CONFLICT' });
  });

  it('names every bad field in a 400', async () => {
    const res = await call('/v1/hosts', {
      method: 'POST',
      body: { id: 'Bad Id!', address: 'x y', port: 70000 },
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; issues: { path: string }[] };
    expect(problem.code).toBe('E_VALIDATION');
    expect(problem.issues.map((i) => i.path).sort()).toEqual(['address', 'id', 'port']);
  });

  it('answers a body that is not JSON with 400', async () => {
    const res = await call('/v1/hosts', { method: 'POST', raw: '{"id": ' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'E_VALIDATION' });
  });

  it('answers a body over 1 MiB with 413', async () => {
    const res = await call('/v1/hosts', {
      method: 'POST',
      raw: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'E_PAYLOAD_TOO_LARGE' });
  });

  it("hands out a v2 host's agent secret once, derived from the master secret, and never again", async () => {
    const res = await call('/v1/hosts', { method: 'POST', body: host('secret-1') });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { agentSecret?: string };
    expect(created.agentSecret).toBe(deriveAgentSecret(TEST_AGENT_MASTER_SECRET, 'secret-1'));
    expect(await (await call('/v1/hosts/secret-1')).text()).not.toContain(created.agentSecret);
    const listed = await (await call('/v1/hosts')).text();
    expect(listed).not.toContain(created.agentSecret);
    expect(listed).not.toContain('agentSecret');
  });

  it('requires the legacy key of a legacy host, and never shows it', async () => {
    const missing = await call('/v1/hosts', {
      method: 'POST',
      body: { ...host('old-1'), protocol: 'legacy' },
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ issues: [{ path: 'legacyKey' }] });
    const res = await call('/v1/hosts', {
      method: 'POST',
      body: { ...host('old-1'), protocol: 'legacy', legacyKey: 's3cret-legacy' },
    });
    expect(res.status).toBe(201);
    const text = await (await call('/v1/hosts/old-1')).text();
    expect(text).not.toContain('s3cret-legacy');
    expect(JSON.parse(text)).toMatchObject({ protocol: 'legacy', hasLegacyKey: true });
    expect(await res.json()).not.toHaveProperty('agentSecret');
  });

  it('answers an unknown host with 404', async () => {
    const res = await call('/v1/hosts/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it('filters by every given tag', async () => {
    await call('/v1/hosts', { method: 'POST', body: host('tag-a', { region: 'eu', group: 'demo' }) });
    await call('/v1/hosts', { method: 'POST', body: host('tag-b', { region: 'eu' }) });
    await call('/v1/hosts', { method: 'POST', body: host('tag-c', { region: 'us', group: 'demo' }) });
    const ids = async (query: string) =>
      ((await (await call(`/v1/hosts?${query}`)).json()) as { items: { id: string }[] }).items.map(
        (h) => h.id,
      );
    expect(await ids('tag=region=eu')).toEqual(['tag-a', 'tag-b']);
    expect(await ids('tag=region=eu&tag=group=demo')).toEqual(['tag-a']);
    expect((await call('/v1/hosts?tag=region')).status).toBe(400);
  });

  it('pages with an opaque cursor and rejects a forged one', async () => {
    for (const id of ['page-1', 'page-2', 'page-3'])
      await call('/v1/hosts', { method: 'POST', body: host(id) });
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const query: string = next ? `limit=2&cursor=${encodeURIComponent(next)}` : 'limit=2';
      const page = (await (await call(`/v1/hosts?${query}`)).json()) as {
        items: { id: string }[];
        next: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((h) => h.id));
      next = page.next;
    } while (next);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(['page-1', 'page-2', 'page-3']));
    expect((await call('/v1/hosts?cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
  });

  it('patches tags and refuses unknown fields', async () => {
    await call('/v1/hosts', { method: 'POST', body: host('patch-1', { region: 'eu' }) });
    const res = await call('/v1/hosts/patch-1', {
      method: 'PATCH',
      body: { tags: { region: 'us', tier: 'a' } },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ tags: { region: 'us', tier: 'a' } });
    const bad = await call('/v1/hosts/patch-1', { method: 'PATCH', body: { id: 'renamed' } });
    expect(bad.status).toBe(400);
    expect((await call('/v1/hosts/ghost', { method: 'PATCH', body: { port: 1 } })).status).toBe(404);
  });

  it('writes with If-Match only to the revision read (the ETag), and refuses a malformed one', async () => {
    await call('/v1/hosts', { method: 'POST', body: host('etag-1', { region: 'eu' }) });
    const read = await call('/v1/hosts/etag-1');
    const etag = read.headers.get('etag') as string;
    expect(etag).toBe(`"${((await read.json()) as { revision: number }).revision}"`);
    const patch = (ifMatch: string, tags: Record<string, string>) =>
      call('/v1/hosts/etag-1', { method: 'PATCH', body: { tags }, headers: { 'if-match': ifMatch } });

    const first = await patch(etag, { region: 'us' });
    const stale = await patch(etag, { region: 'ap' });
    const malformed = await patch('W/"1"', { region: 'ap' });

    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).not.toBe(etag);
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ code: 'E_STATE_CONFLICT' });
    expect(malformed.status).toBe(400);
    expect(await (await call('/v1/hosts/etag-1')).json()).toMatchObject({ tags: { region: 'us' } });
    expect((await patch(first.headers.get('etag') as string, { region: 'ap' })).status).toBe(200);
  });

  it('shares list reads, yet shows its own writes at once and says the age of what it serves', async () => {
    const ids = async () => {
      const res = await call('/v1/hosts?tag=share=yes');
      expect(Number(res.headers.get('age'))).toBeGreaterThanOrEqual(0);
      return ((await res.json()) as { items: { id: string; status: string }[] }).items;
    };
    await call('/v1/hosts', { method: 'POST', body: host('share-1', { share: 'yes' }) });
    expect((await ids()).map((h) => h.id)).toEqual(['share-1']);
    await call('/v1/hosts', { method: 'POST', body: host('share-2', { share: 'yes' }) });
    expect((await ids()).map((h) => h.id)).toEqual(['share-1', 'share-2']);
    await call('/v1/hosts/share-1', { method: 'PATCH', body: { tags: { share: 'no' } } });
    expect((await ids()).map((h) => h.id)).toEqual(['share-2']);
    // The host monitor writes straight to the store: the shared page shows it once it ages.
    await api.store.hosts.observe('share-2', { status: 'online' });
    expect((await ids())[0]?.status).not.toBe('online');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await ids())[0]?.status).toBe('online');
  });

  it('deletes (204), then the host is gone (404)', async () => {
    await call('/v1/hosts', { method: 'POST', body: host('gone-1') });
    expect((await call('/v1/hosts/gone-1', { method: 'DELETE' })).status).toBe(204);
    expect((await call('/v1/hosts/gone-1')).status).toBe(404);
    expect((await call('/v1/hosts/gone-1', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('games, origins and the read side', () => {
  it('defines a game with defaults, refuses a duplicate', async () => {
    const res = await call('/v1/games', {
      method: 'POST',
      body: { name: 'cod4x', queryProtocol: 'q3a', defaultPort: 28960 },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: 'cod4x', stop: { kind: 'signal', signal: 'SIGTERM' } });
    expect(
      (
        await call('/v1/games', {
          method: 'POST',
          body: { name: 'cod4x', queryProtocol: 'q3a', defaultPort: 1 },
        })
      ).status,
    ).toBe(409);
    expect((await call('/v1/games/cod4x')).status).toBe(200);
  });

  it('registers an origin only against an origin-role host', async () => {
    await call('/v1/hosts', { method: 'POST', body: { ...host('mirror-1'), role: 'origin' } });
    const bad = await call('/v1/origins', {
      method: 'POST',
      body: { id: 'o1', baseUrl: 'http://127.0.0.1:8080/', hostId: 'eu-1' },
    });
    expect(bad.status).toBe(400);
    const res = await call('/v1/origins', {
      method: 'POST',
      body: { id: 'o1', baseUrl: 'http://127.0.0.1:8080/', hostId: 'mirror-1' },
    });
    expect(res.status).toBe(201);
    expect((await call('/v1/origins/o1')).status).toBe(200);
    expect(await res.json()).toMatchObject({ check: 'sha256' });
  });

  it("takes an origin's check policy, and refuses one it does not know", async () => {
    await call('/v1/hosts', { method: 'POST', body: { ...host('mirror-2'), role: 'origin' } });
    const base = { baseUrl: 'http://127.0.0.1:8081/', hostId: 'mirror-2' };
    const bad = await call('/v1/origins', { method: 'POST', body: { ...base, id: 'o2', check: 'md5' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('check');
    expect((await call('/v1/origins/o2')).status).toBe(404);
    const res = await call('/v1/origins', { method: 'POST', body: { ...base, id: 'o3', check: 'size' } });
    expect(res.status).toBe(201);
    expect(await (await call('/v1/origins/o3')).json()).toMatchObject({ check: 'size' });
  });

  it('lists packages, releases and jobs, and 404s unknown ones', async () => {
    expect(await (await call('/v1/packages')).json()).toEqual({ items: [], next: null });
    expect(await (await call('/v1/releases')).json()).toEqual({ items: [], next: null });
    expect((await call('/v1/packages/demo@9.9.9')).status).toBe(404);
    expect((await call('/v1/releases/rel-none')).status).toBe(404);
    expect((await call('/v1/jobs/job-none')).status).toBe(404);
    expect((await call('/v1/jobs')).status).toBe(400);
    expect((await call('/v1/packages?version=1.0.0')).status).toBe(400);
  });

  it('shows a job with its log tail', async () => {
    await api.store.jobs.create({
      id: 'job-t1',
      parentType: 'action',
      parentId: 'act-1',
      hostId: 'eu-1',
      action: 'status',
    });
    await api.store.jobs.appendLog('job-t1', ['line 1', 'line 2']);
    const res = await call('/v1/jobs/job-t1');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'queued', logTail: ['line 1', 'line 2'] });
    const byHost = (await (await call('/v1/jobs?hostId=eu-1')).json()) as { items: { id: string }[] };
    expect(byHost.items.map((j) => j.id)).toContain('job-t1');
  });

  it('describes itself in OpenAPI 3 generated from the same schemas', async () => {
    const res = await call('/v1/openapi.json', { key: null });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/hosts', '/v1/hosts/{id}', '/v1/games', '/v1/keys', '/v1/health']),
    );
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await call('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'E_NOT_FOUND' });
  });
});
