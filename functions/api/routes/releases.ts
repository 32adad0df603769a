import { createRoute } from '@hono/zod-openapi';
import { Job, Release } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { router } from '../router.js';
import { IdParam, ok, PageQuery, pageOf, problems } from '../schemas.js';

const listReleases = createRoute({
  method: 'get',
  path: '/',
  summary: 'List releases, newest first',
  request: { query: PageQuery },
  responses: { 200: ok(pageOf(Release)), ...problems(400, 401) },
});

const getRelease = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One release',
  request: { params: IdParam },
  responses: { 200: ok(Release), ...problems(401, 404) },
});

const listReleaseJobs = createRoute({
  method: 'get',
  path: '/{id}/jobs',
  summary: 'The host jobs of a release',
  request: { params: IdParam, query: PageQuery },
  responses: { 200: ok(pageOf(Job)), ...problems(400, 401, 404) },
});

export const releaseRoutes = (store: Store) =>
  router()
    .openapi(listReleases, async (c) => c.json(await store.releases.list(c.req.valid('query')), 200))
    .openapi(getRelease, async (c) => c.json(await store.releases.get(c.req.valid('param').id), 200))
    .openapi(listReleaseJobs, async (c) => {
      const release = await store.releases.get(c.req.valid('param').id);
      return c.json(await store.jobs.listByParent(release.id, c.req.valid('query')), 200);
    });
