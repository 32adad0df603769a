/**
 * The CLI's two kinds of failure that are not bugs: the operator asked for something that
 * cannot work (exit 1, one line and a hint), and the API said no (the same, with the API's
 * code and field issues). Anything else is a bug and shows its stack (exit 2).
 */

export interface CliIssue {
  readonly path: string;
  readonly message: string;
}

export interface UserErrorOptions extends ErrorOptions {
  /** What to do about it, printed as `hint: ...`. */
  readonly hint?: string;
  readonly issues?: readonly CliIssue[];
}

export class UserError extends Error {
  readonly hint: string | undefined;
  readonly issues: readonly CliIssue[];

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = new.target.name;
    this.hint = options.hint;
    this.issues = options.issues ?? [];
  }
}

export interface ApiErrorDetails extends UserErrorOptions {
  readonly status: number;
  /** The API's stable error code (`E_NOT_FOUND`, ...), or `E_HTTP` when the body was not a problem. */
  readonly code: string;
  readonly requestId?: string;
}

export class ApiError extends UserError {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;

  constructor(message: string, details: ApiErrorDetails) {
    super(message, details);
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
  }
}

export const isUserError = (error: unknown): error is UserError => error instanceof UserError;
