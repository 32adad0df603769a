import { GsmError } from '../../core/errors.js';

/**
 * Failures of game definitions and game queries. Each has a stable `code` the agent puts in
 * a RESULT frame; the message is for people.
 */
export const GAME_ERROR_CODES = [
  'E_UNKNOWN_GAME',
  'E_BAD_DEFINITION',
  'E_BAD_TEMPLATE',
  'E_BAD_ARG_VALUE',
  'E_QUERY_TIMEOUT',
  'E_QUERY_FAILED',
  'E_QUERY_UNSUPPORTED',
] as const;
export type GameErrorCode = (typeof GAME_ERROR_CODES)[number];

export class GameError extends GsmError {
  declare readonly code: GameErrorCode;

  constructor(code: GameErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

export class UnknownGameError extends GameError {
  readonly game: string;
  readonly known: readonly string[];

  constructor(game: string, known: readonly string[]) {
    super('E_UNKNOWN_GAME', `game '${game}' is not in the definitions (known: ${known.join(', ')})`);
    this.game = game;
    this.known = known;
  }
}

/** A template names something that is not a placeholder, or a value is unsafe in argv. */
export class ArgTemplateError extends GameError {
  readonly template: string;

  constructor(code: 'E_BAD_TEMPLATE' | 'E_BAD_ARG_VALUE', template: string, message: string) {
    super(code, message);
    this.template = template;
  }
}

export class QueryTimeoutError extends GameError {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;

  constructor(host: string, port: number, timeoutMs: number) {
    super('E_QUERY_TIMEOUT', `no answer from ${host}:${port} within ${timeoutMs} ms`);
    this.host = host;
    this.port = port;
    this.timeoutMs = timeoutMs;
  }
}

export class QueryFailedError extends GameError {
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, message: string, options?: ErrorOptions) {
    super('E_QUERY_FAILED', `query of ${host}:${port} failed: ${message}`, options);
    this.host = host;
    this.port = port;
  }
}

export const isGameError = (error: unknown, code?: GameErrorCode): error is GameError =>
  error instanceof GameError && (code === undefined || error.code === code);
