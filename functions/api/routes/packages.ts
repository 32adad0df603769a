import { createRoute } from '@hono/zod-openapi';
import { Id, Package, Version } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { router } from '../router.js';
import { IdParam, ok, PageQuery, pageOf, problems } from '../schemas.js';

const ListQuery = PageQuery.extend({ game: Id.optional(), version: Version.optional() }).refine(
  (q) => q.version === undefined || q.game !== undefined,
  { path: ['version'], message: 'filter by version only together with game' },
);

const listPackages = createRoute({
  method: 'get',
  path: '/',
  summary: 'List packages; find one by game and version',
  request: { query: ListQuery },
  responses: { 200: ok(pageOf(Package)), ...problems(400, 401) },
});

const getPackage = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One package (id: game@version)',
  request: { params: IdParam },
  responses: { 200: ok(Package), ...problems(401, 404) },
});

export const packageRoutes = (store: Store) =>
  router()
    .openapi(listPackages, async (c) => c.json(await store.packages.list(c.req.valid('query')), 200))
    .openapi(getPackage, async (c) => c.json(await store.packages.get(c.req.valid('param').id), 200));
