import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../../core/log.js';
import type { ApiEnv } from '../env.js';

/** One log line per request, with the request id every later line of that request carries too. */
export const requestLog = ({ logger }: { logger: Logger }): MiddlewareHandler<ApiEnv> =>
  async function requestLog(c, next) {
    const started = performance.now();
    const log = logger.child({ requestId: c.get('requestId') });
    c.set('logger', log);
    await next();
    const path = new URL(c.req.url).pathname;
    log.info(
      { method: c.req.method, path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  };
