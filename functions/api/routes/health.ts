import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../router.js';
import { ok } from '../schemas.js';

const Health = z.object({ status: z.literal('ok'), version: z.string() });

const getHealth = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Liveness; needs no key',
  responses: { 200: ok(Health) },
});

export const healthRoutes = (version: string) =>
  router().openapi(getHealth, (c) => c.json({ status: 'ok' as const, version }, 200));
