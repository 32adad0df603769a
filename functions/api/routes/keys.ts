import { createRoute, z } from '@hono/zod-openapi';
import { Role } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { requireRole } from '../middleware/auth.js';
import type { VerifiedKeyCache } from '../middleware/verified-keys.js';
import { router } from '../router.js';
import { IdParam, jsonBody, ok, PageQuery, pageOf, problems } from '../schemas.js';

const KeyInfo = z.object({
  id: z.string(),
  name: z.string(),
  role: Role,
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  revokedAt: z.string().optional(),
});

const NewKey = z.object({ name: z.string().min(1).max(100), role: Role });

const listKeys = createRoute({
  method: 'get',
  path: '/',
  summary: 'List API keys (never the keys themselves)',
  middleware: [requireRole('admin')] as const,
  request: { query: PageQuery },
  responses: { 200: ok(pageOf(KeyInfo)), ...problems(400, 401, 403) },
});

const createKey = createRoute({
  method: 'post',
  path: '/',
  summary: 'Create an API key; the key is in this response only',
  middleware: [requireRole('admin')] as const,
  request: jsonBody(NewKey),
  responses: { 201: ok(KeyInfo.extend({ key: z.string() }), 'created'), ...problems(400, 401, 403, 413) },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/{id}',
  summary: 'Revoke an API key',
  middleware: [requireRole('admin')] as const,
  request: { params: IdParam },
  responses: { 200: ok(KeyInfo, 'revoked'), ...problems(401, 403, 404) },
});

export const keyRoutes = (store: Store, verifiedKeys?: Pick<VerifiedKeyCache, 'forget'>) =>
  router()
    .openapi(listKeys, async (c) => c.json(await store.apiKeys.list(c.req.valid('query')), 200))
    .openapi(createKey, async (c) => {
      const { info, key } = await store.apiKeys.create(c.req.valid('json'));
      c.get('logger').info({ createdKeyId: info.id, role: info.role }, 'API key created');
      return c.json({ ...info, key }, 201);
    })
    .openapi(revokeKey, async (c) => {
      const info = await store.apiKeys.revoke(c.req.valid('param').id);
      verifiedKeys?.forget(info.id);
      c.get('logger').info({ revokedKeyId: info.id }, 'API key revoked');
      return c.json(info, 200);
    });
