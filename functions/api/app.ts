import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { NotFoundError, PayloadTooLargeError, ValidationError } from '../../core/errors.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { auth } from './middleware/auth.js';
import { requestLog } from './middleware/request-log.js';
import { createVerifiedKeyCache } from './middleware/verified-keys.js';
import { problemResponse } from './problem.js';
import { createReleaseJobsView } from './release-jobs-view.js';
import { actionRoutes } from './routes/actions.js';
import { consoleRoutes, sessionRoutes } from './routes/console.js';
import { gameRoutes } from './routes/games.js';
import { healthRoutes } from './routes/health.js';
import { hostRoutes } from './routes/hosts.js';
import { jobRoutes } from './routes/jobs.js';
import { keyRoutes } from './routes/keys.js';
import { originRoutes } from './routes/origins.js';
import { packageRoutes } from './routes/packages.js';
import { releaseRecordReads } from './routes/release-detail.js';
import { releaseWorkflowRoutes } from './routes/release-workflow.js';
import { releaseRoutes } from './routes/releases.js';
import { createSharedReads } from './shared-reads.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Paths any caller may read: liveness and the API's own description. */
const PUBLIC_PATHS = new Set(['/v1/health', '/v1/openapi.json']);

/**
 * The gsm API: one app, served by `lambda.ts` in AWS and by `@hono/node-server` locally.
 * It imports neither adapter.
 */
export const createApp = (deps: ApiDeps) => {
  const { store, logger } = deps;
  const version = deps.version ?? '0.0.0';
  const verifiedKeys = createVerifiedKeyCache(store.apiKeys, deps.verifiedKeys);
  const authenticate = auth({ apiKeys: verifiedKeys });

  const app = new OpenAPIHono<ApiEnv>();
  app.use(requestId());
  app.use(requestLog({ logger }));
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new PayloadTooLargeError(MAX_BODY_BYTES);
    },
  });
  // No route reads a GET's body, and asking for one makes @hono/node-server build the whole Web
  // Request (headers, abort signal) that a poll otherwise never needs: ~4 % of the API's CPU in the
  // release bench.
  app.use(async (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next),
  );
  app.use('/v1/*', async (c, next) => (PUBLIC_PATHS.has(c.req.path) ? next() : authenticate(c, next)));

  const routes = app
    .route('/v1', healthRoutes(version))
    .route('/v1/games', gameRoutes(store))
    .route('/v1/hosts', hostRoutes(store, deps.agentSecretFor, createSharedReads({ logger })))
    .route('/v1/origins', originRoutes(store))
    .route('/v1/packages', packageRoutes(store, deps.objects, deps.workflows))
    .route(
      '/v1/releases',
      releaseRoutes(store, deps.workflows, {
        jobsView: createReleaseJobsView(store, { logger }),
        records: releaseRecordReads({ logger }),
      }),
    )
    .route('/v1/releases', releaseWorkflowRoutes(store, deps.workflows))
    .route('/v1/jobs', jobRoutes(store))
    .route('/v1/actions', actionRoutes(store, deps.workflows))
    .route('/v1/keys', keyRoutes(store, verifiedKeys))
    .route('/v1/session', sessionRoutes());

  // The web console's static files: public, outside /v1 and its auth.
  app.route('/console', consoleRoutes());

  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer' });
  app.doc('/v1/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'gsm API', version, description: 'Game server manager: hosts, packages, releases, jobs.' },
    security: [{ apiKey: [] }],
  });

  app.notFound((c) => problemResponse(c, new NotFoundError('route', `${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status === 400) {
      // Hono's validators throw this for a body that is not JSON at all.
      return problemResponse(
        c,
        new ValidationError(`invalid body: ${error.message}`, [{ path: '(body)', message: error.message }]),
      );
    }
    if (error instanceof HTTPException) return error.getResponse();
    return problemResponse(c, error);
  });

  return routes;
};

export type AppType = ReturnType<typeof createApp>;
