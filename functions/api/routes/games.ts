import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError } from '../../../core/errors.js';
import { Game, GameInput, parseStrategy, ReleasePolicy } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { requireRole } from '../middleware/auth.js';
import { router } from '../router.js';
import { jsonBody, ok, PageQuery, pageOf, problems } from '../schemas.js';

const NameParam = z.object({ name: z.string().min(1).max(63) });

const listGames = createRoute({
  method: 'get',
  path: '/',
  summary: 'List game definitions',
  request: { query: PageQuery },
  responses: { 200: ok(pageOf(Game)), ...problems(400, 401) },
});

const createGame = createRoute({
  method: 'post',
  path: '/',
  summary: 'Define a game: query protocol, default port, start and stop parameters',
  middleware: [requireRole('operator')] as const,
  request: jsonBody(GameInput),
  responses: { 201: ok(Game, 'created'), ...problems(400, 401, 403, 409, 413) },
});

const getGame = createRoute({
  method: 'get',
  path: '/{name}',
  summary: 'One game definition',
  request: { params: NameParam },
  responses: { 200: ok(Game), ...problems(401, 404) },
});

const deleteGame = createRoute({
  method: 'delete',
  path: '/{name}',
  summary: 'Remove a game definition',
  middleware: [requireRole('admin')] as const,
  request: { params: NameParam },
  responses: { 204: { description: 'deleted' }, ...problems(401, 403, 404) },
});

const putPolicy = createRoute({
  method: 'put',
  path: '/{name}/policy',
  summary:
    'Set the release policy: with autoRelease, every package of the game that finishes intake and staging is released to target with strategy',
  middleware: [requireRole('operator')] as const,
  request: { params: NameParam, ...jsonBody(ReleasePolicy) },
  responses: { 200: ok(ReleasePolicy), ...problems(400, 401, 403, 404, 413) },
});

const getPolicy = createRoute({
  method: 'get',
  path: '/{name}/policy',
  summary: "The game's release policy",
  request: { params: NameParam },
  responses: { 200: ok(ReleasePolicy), ...problems(401, 404) },
});

export const gameRoutes = (store: Store) =>
  router()
    .openapi(listGames, async (c) => c.json(await store.games.list(c.req.valid('query')), 200))
    .openapi(createGame, async (c) => c.json(await store.games.create(c.req.valid('json')), 201))
    .openapi(getGame, async (c) => c.json(await store.games.get(c.req.valid('param').name), 200))
    .openapi(putPolicy, async (c) => {
      const body = c.req.valid('json');
      // Checked now, each bad field named, so a bad strategy never waits for the next upload.
      const strategy = parseStrategy(body.strategy);
      const game = await store.games.setPolicy(c.req.valid('param').name, { ...body, strategy });
      c.get('logger').info({ game: game.name, autoRelease: body.autoRelease }, 'release policy set');
      return c.json(game.policy as ReleasePolicy, 200);
    })
    .openapi(getPolicy, async (c) => {
      const { name } = c.req.valid('param');
      const game = await store.games.get(name);
      if (!game.policy) throw new NotFoundError('release policy of game', name);
      return c.json(game.policy, 200);
    })
    .openapi(deleteGame, async (c) => {
      await store.games.remove(c.req.valid('param').name);
      return c.body(null, 204);
    });
