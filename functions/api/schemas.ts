import { z } from '@hono/zod-openapi';
import { Problem } from './problem.js';

export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .optional()
    .openapi({ description: 'page size (default 50)' }),
  cursor: z.string().max(2048).optional().openapi({ description: 'the `next` of the previous page' }),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next: z.string().nullable() });

export const IdParam = z.object({ id: z.string().min(1).max(128) });

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export const ok = <T extends z.ZodType>(schema: T, description = 'OK') => json(schema, description);

const PROBLEMS = {
  400: 'invalid request: `issues` names each bad field',
  401: 'no API key, or not a valid one',
  403: 'the key’s role does not allow this',
  404: 'no such resource',
  409: 'conflicts with what is stored',
  413: 'body over 1 MiB',
} as const;

type ProblemStatus = keyof typeof PROBLEMS;

/** The error responses a route can give, all with the Problem body. */
export const problems = <S extends ProblemStatus>(...statuses: S[]) =>
  Object.fromEntries(statuses.map((s) => [s, json(Problem, PROBLEMS[s])])) as {
    [K in S]: { content: { 'application/json': { schema: typeof Problem } }; description: string };
  };

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});
