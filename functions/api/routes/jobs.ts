import { createRoute, z } from '@hono/zod-openapi';
import { ValidationError } from '../../../core/errors.js';
import { Id, Job, JobState } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { router } from '../router.js';
import { IdParam, ok, PageQuery, pageOf, problems } from '../schemas.js';

const ListQuery = PageQuery.extend({
  hostId: Id.optional(),
  state: JobState.optional(),
  parentId: z.string().min(1).max(128).optional(),
});

const listJobs = createRoute({
  method: 'get',
  path: '/',
  summary: 'Jobs of one host, one state, or one release/action (exactly one filter)',
  request: { query: ListQuery },
  responses: { 200: ok(pageOf(Job)), ...problems(400, 401) },
});

const getJob = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One host job, with its log tail',
  request: { params: IdParam },
  responses: { 200: ok(Job), ...problems(401, 404) },
});

export const jobRoutes = (store: Store) =>
  router()
    .openapi(listJobs, async (c) => {
      const { hostId, state, parentId, ...page } = c.req.valid('query');
      const filters = [hostId, state, parentId].filter((f) => f !== undefined).length;
      if (filters !== 1) {
        throw new ValidationError('invalid query: filter', [
          { path: 'hostId|state|parentId', message: 'give exactly one of hostId, state, parentId' },
        ]);
      }
      if (hostId) return c.json(await store.jobs.listByHost(hostId, page), 200);
      if (state) return c.json(await store.jobs.listByState(state, page), 200);
      return c.json(await store.jobs.listByParent(parentId as string, page), 200);
    })
    .openapi(getJob, async (c) => c.json(await store.jobs.get(c.req.valid('param').id), 200));
