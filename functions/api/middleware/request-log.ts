import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../../core/log.js';
import type { ApiEnv } from '../env.js';

/**
 * One log line per request, with the request id every later line of that request carries too.
 * The time spent in the app also goes back as `Server-Timing`, so a client (a browser's dev
 * tools, a bench) can tell time spent here from time spent getting here.
 */
export const requestLog = ({ logger }: { logger: Logger }): MiddlewareHandler<ApiEnv> =>
  async function requestLog(c, next) {
    const started = performance.now();
    const log = logger.child({ requestId: c.get('requestId') });
    c.set('logger', log);
    await next();
    const ms = performance.now() - started;
    try {
      c.res.headers.append('Server-Timing', `app;dur=${ms.toFixed(1)}`);
    } catch {
      // A response with immutable headers (one passed through from fetch) goes out without it.
    }
    const path = new URL(c.req.url).pathname;
    log.info({ method: c.req.method, path, status: c.res.status, ms: Math.round(ms) }, 'request');
  };
