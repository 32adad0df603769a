import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, UnauthorizedError } from '../../../core/errors.js';
import { type Role, roleAllows } from '../../../core/model/index.js';
import type { ApiEnv } from '../env.js';
import type { VerifiedKeyCache } from './verified-keys.js';

export interface AuthOptions {
  readonly apiKeys: Pick<VerifiedKeyCache, 'verify'>;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Every request under it needs a valid bearer API key; the key's record is `c.get('apiKey')`. */
export const auth = ({ apiKeys }: AuthOptions): MiddlewareHandler<ApiEnv> =>
  async function auth(c, next) {
    const header = c.req.header('authorization');
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) throw new UnauthorizedError();
    const record = await apiKeys.verify(token);
    c.set('apiKey', record);
    c.set('logger', c.get('logger').child({ keyId: record.id }));
    await next();
  };

/** Route guard: viewer < operator < admin. */
export const requireRole = (role: Role): MiddlewareHandler<ApiEnv> =>
  async function requireRole(c, next) {
    const key = c.get('apiKey');
    if (!key) throw new UnauthorizedError();
    if (!roleAllows(key.role, role)) {
      throw new ForbiddenError(`this needs the ${role} role; key '${key.name}' is ${key.role}`);
    }
    await next();
  };
