import { createRoute } from '@hono/zod-openapi';
import { ValidationError } from '../../../core/errors.js';
import { Origin, OriginInput } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { requireRole } from '../middleware/auth.js';
import { router } from '../router.js';
import { IdParam, jsonBody, ok, PageQuery, pageOf, problems } from '../schemas.js';

const listOrigins = createRoute({
  method: 'get',
  path: '/',
  summary: 'List download origins',
  request: { query: PageQuery },
  responses: { 200: ok(pageOf(Origin)), ...problems(400, 401) },
});

const createOrigin = createRoute({
  method: 'post',
  path: '/',
  summary: 'Register a download origin (an HTTP server with an origin-role agent beside it)',
  middleware: [requireRole('operator')] as const,
  request: jsonBody(OriginInput),
  responses: { 201: ok(Origin, 'created'), ...problems(400, 401, 403, 409, 413) },
});

const getOrigin = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One origin',
  request: { params: IdParam },
  responses: { 200: ok(Origin), ...problems(401, 404) },
});

const deleteOrigin = createRoute({
  method: 'delete',
  path: '/{id}',
  summary: 'Remove an origin',
  middleware: [requireRole('operator')] as const,
  request: { params: IdParam },
  responses: { 204: { description: 'deleted' }, ...problems(401, 403, 404) },
});

export const originRoutes = (store: Store) =>
  router()
    .openapi(listOrigins, async (c) => c.json(await store.origins.list(c.req.valid('query')), 200))
    .openapi(createOrigin, async (c) => {
      const input = c.req.valid('json');
      const host = await store.hosts.find(input.hostId);
      if (host?.role !== 'origin') {
        throw new ValidationError('invalid body: hostId', [
          { path: 'hostId', message: `no origin-role host '${input.hostId}' is registered` },
        ]);
      }
      return c.json(await store.origins.create(input), 201);
    })
    .openapi(getOrigin, async (c) => c.json(await store.origins.get(c.req.valid('param').id), 200))
    .openapi(deleteOrigin, async (c) => {
      await store.origins.remove(c.req.valid('param').id);
      return c.body(null, 204);
    });
