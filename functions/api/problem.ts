import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { type CoreErrorCode, GsmError, ValidationError } from '../../core/errors.js';
import { issuesOf } from '../../core/field-issues.js';
import type { ApiEnv } from './env.js';

/** Every error body the API sends: one shape, so clients switch on `code`. */
export const Problem = z
  .object({
    error: z.string(),
    code: z.string(),
    requestId: z.string().optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const STATUS: Readonly<Record<CoreErrorCode, ContentfulStatusCode>> = {
  E_VALIDATION: 400,
  E_BAD_CURSOR: 400,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  E_STATE_CONFLICT: 409,
  E_PAYLOAD_TOO_LARGE: 413,
  E_CONFIG: 500,
  E_INTERNAL: 500,
  E_UNAVAILABLE: 503,
};

/** Codes of other subsystems never reach the API on their own; if one does, it is a 500. */
export const statusOf = (error: GsmError): ContentfulStatusCode => STATUS[error.code as CoreErrorCode] ?? 500;

export const toValidationError = (target: string, error: ZodError): ValidationError => {
  const issues = issuesOf(error);
  const fields = issues.map((i) => i.path).join(', ');
  return new ValidationError(`invalid ${target}: ${fields}`, issues);
};

export const problemResponse = (c: Context<ApiEnv>, error: unknown): Response => {
  const requestId = c.get('requestId');
  if (error instanceof GsmError) {
    const status = statusOf(error);
    const body: z.infer<typeof Problem> = { error: error.message, code: error.code, requestId };
    if (error instanceof ValidationError && error.issues.length > 0) body.issues = [...error.issues];
    if (status >= 500) c.get('logger')?.error({ err: error }, 'request failed');
    return c.json(body, status);
  }
  c.get('logger')?.error({ err: error }, 'unhandled error');
  return c.json({ error: 'internal error; see the server log', code: 'E_INTERNAL', requestId }, 500);
};
