import { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './env.js';
import { toValidationError } from './problem.js';

/**
 * A sub-app whose zod failures become the API's one validation error (400 naming each field),
 * thrown so that `app.onError` writes every error body the same way.
 */
export const router = () =>
  new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw toValidationError(result.target, result.error);
    },
  });
