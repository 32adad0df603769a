import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../../test/helpers/api.js';

describe('PUT/GET /v1/games/:name/policy', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
    await api.store.games.create({ name: 'demo', queryProtocol: 'q3a', defaultPort: 27960 });
  });
  afterAll(async () => api?.close());

  const call = (method: string, path: string, body?: unknown, key = api.keys.operator) =>
    api.app.request(`http://localhost${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('stores the policy with the strategy parsed (defaults filled) and GET returns it', async () => {
    const policy = { autoRelease: true, target: { tags: { group: 'demo' } }, strategy: { canary: 2 } };

    const put = await call('PUT', '/v1/games/demo/policy', policy);

    expect(put.status).toBe(200);
    const stored = await put.json();
    expect(stored).toMatchObject({ ...policy, strategy: { canary: 2, batch: '25%', rollback: 'auto' } });
    const got = await call('GET', '/v1/games/demo/policy', undefined, api.keys.viewer);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(stored);
  });

  it.each([
    [{ autoRelease: true, target: { tags: {} } }, 'name at least one tag'],
    [{ autoRelease: 'yes', target: { hosts: ['h1'] } }, 'autoRelease'],
    [{ autoRelease: true, target: { hosts: ['h1'] }, strategy: { batch: 0 } }, 'strategy.batch'],
    [
      { autoRelease: true, target: { hosts: ['h1'] }, strategy: { approval: 'sometimes' } },
      'strategy.approval',
    ],
    [{ autoRelease: true }, 'target'],
  ])('refuses a bad policy with 400 naming the field, keeping the one stored (%#)', async (body, field) => {
    const before = await (await call('GET', '/v1/games/demo/policy')).json();

    const res = await call('PUT', '/v1/games/demo/policy', body);

    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain(field);
    expect(await (await call('GET', '/v1/games/demo/policy')).json()).toEqual(before);
  });

  it('answers 404 for an unknown game and 403 for a viewer', async () => {
    const policy = { autoRelease: false, target: { hosts: ['h1'] } };
    expect((await call('PUT', '/v1/games/nope/policy', policy)).status).toBe(404);
    expect((await call('GET', '/v1/games/nope/policy')).status).toBe(404);
    expect((await call('PUT', '/v1/games/demo/policy', policy, api.keys.viewer)).status).toBe(403);
  });
});
