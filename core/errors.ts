/**
 * One error hierarchy for every process. Each error has a stable `code` that callers
 * (the API's error table, the CLI, the relay) switch on; the message is for people.
 */
/**
 * A stable, machine-readable error code (`E_NOT_FOUND`, `E_HASH_MISMATCH`, ...). Callers switch
 * on it; each subsystem (protocol, agent, installer) adds its own codes on the same base class.
 */
export type ErrorCode = `E_${Uppercase<string>}`;

/** The codes every process shares; the API maps these to HTTP statuses. */
export const CORE_ERROR_CODES = [
  'E_VALIDATION',
  'E_NOT_FOUND',
  'E_CONFLICT',
  'E_STATE_CONFLICT',
  'E_UNAUTHORIZED',
  'E_FORBIDDEN',
  'E_PAYLOAD_TOO_LARGE',
  'E_BAD_CURSOR',
  'E_CONFIG',
  'E_UNAVAILABLE',
  'E_INTERNAL',
] as const satisfies readonly ErrorCode[];
export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

export class GsmError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `tags.region` or `port`. */
  readonly path: string;
  readonly message: string;
}

export class ValidationError extends GsmError {
  readonly issues: readonly FieldIssue[];

  constructor(message: string, issues: readonly FieldIssue[] = [], options?: ErrorOptions) {
    super('E_VALIDATION', message, options);
    this.issues = issues;
  }
}

export class NotFoundError extends GsmError {
  readonly kind: string;
  readonly id: string;

  constructor(kind: string, id: string, options?: ErrorOptions) {
    super('E_NOT_FOUND', `${kind} '${id}' does not exist`, options);
    this.kind = kind;
    this.id = id;
  }
}

/** The record already exists (create) or is in use (delete). */
export class ConflictError extends GsmError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_CONFLICT', message, options);
  }
}

/**
 * A conditional write lost: the record moved on (or was never in the expected state).
 * Carries what is stored now, when the store could read it, so callers can decide.
 */
export class StateConflictError<T = unknown> extends GsmError {
  readonly current: T | undefined;

  constructor(message: string, current?: T, options?: ErrorOptions) {
    super('E_STATE_CONFLICT', message, options);
    this.current = current;
  }
}

export class UnauthorizedError extends GsmError {
  constructor(message = 'a valid API key is required (Authorization: Bearer <key>)', options?: ErrorOptions) {
    super('E_UNAUTHORIZED', message, options);
  }
}

export class ForbiddenError extends GsmError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_FORBIDDEN', message, options);
  }
}

export class PayloadTooLargeError extends GsmError {
  constructor(limitBytes: number, options?: ErrorOptions) {
    super('E_PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`, options);
  }
}

export class BadCursorError extends GsmError {
  constructor(options?: ErrorOptions) {
    super('E_BAD_CURSOR', 'the pagination cursor is not valid; start again without one', options);
  }
}

export class ConfigError extends GsmError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_CONFIG', message, options);
  }
}

export const isGsmError = (error: unknown): error is GsmError => error instanceof GsmError;
