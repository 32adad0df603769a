import { z } from 'zod';
import { Port, TagKey, TagValue } from '../core/model/index.js';

/**
 * Command-line values arrive as strings; these turn them into what the core schemas expect,
 * so the CLI refuses a bad value with the same rule the API would apply, before any request.
 */

/** A whole number given on the command line. */
export const IntArg = z
  .string()
  .trim()
  .regex(/^\d+$/, 'expected a whole number')
  .transform((s) => Number.parseInt(s, 10));

export const PortArg = IntArg.pipe(Port);

/** `key=value`, split at the first `=`; the value may be empty. */
export const TagArg = z
  .string()
  .transform((pair, ctx): [string, string] => {
    const at = pair.indexOf('=');
    if (at <= 0) {
      ctx.addIssue({ code: 'custom', message: `'${pair}' is not key=value` });
      return z.NEVER;
    }
    return [pair.slice(0, at), pair.slice(at + 1)];
  })
  .pipe(z.tuple([TagKey, TagValue]));

/** Repeated `--tag k=v` options (commander collects them; absent means none). */
export const TagList = z.array(TagArg).default([]);

export const StringList = z.array(z.string()).default([]);

export const tagsOf = (pairs: readonly (readonly [string, string])[]): Record<string, string> =>
  Object.fromEntries(pairs);
