import type { ZodError } from 'zod';
import type { FieldIssue } from './errors.js';

/**
 * A zod failure as the field issues every error message and API body carries: the dotted path
 * of each bad field (`root` for the value itself) and what is wrong with it.
 */
export const issuesOf = (error: ZodError, root = '(body)'): FieldIssue[] =>
  error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || root,
    message: issue.message,
  }));

/** The first `limit` issues in one line, `path: message; …`, for an error message or a log. */
export const describeIssues = (error: ZodError, root: string, limit = 5): string => {
  const issues = issuesOf(error, root);
  const shown = issues
    .slice(0, limit)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
  return issues.length > limit ? `${shown}; and ${issues.length - limit} more` : shown;
};
