import { GsmError } from '../../core/errors.js';

/**
 * Failures of game-process supervision. Each has a stable `code` the agent puts in a RESULT
 * frame (like Wings' `ErrIsRunning`, `crashTooFrequent`); the message is for people.
 */
export const PROCESS_ERROR_CODES = [
  'E_RUN_AS_ROOT',
  'E_ALREADY_RUNNING',
  'E_NOT_RUNNING',
  'E_SPAWN_FAILED',
  'E_CRASH_LOOP',
  'E_STOP_FAILED',
  'E_NO_CONSOLE',
] as const;
export type ProcessErrorCode = (typeof PROCESS_ERROR_CODES)[number];

export class ProcessError extends GsmError {
  declare readonly code: ProcessErrorCode;

  constructor(code: ProcessErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

export class RunAsRootError extends ProcessError {
  constructor(name: string) {
    super(
      'E_RUN_AS_ROOT',
      `refusing to run game server '${name}' as root: set a game user, or allowRoot: true in the agent config`,
    );
  }
}

export class AlreadyRunningError extends ProcessError {
  readonly pid: number | undefined;

  constructor(name: string, state: string, pid?: number) {
    super('E_ALREADY_RUNNING', `game server '${name}' is ${state}${pid ? ` (pid ${pid})` : ''}`);
    this.pid = pid;
  }
}

export class SpawnFailedError extends ProcessError {
  constructor(name: string, executable: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('E_SPAWN_FAILED', `game server '${name}' could not start ${executable}${reason}`, options);
  }
}

export const isProcessError = (error: unknown, code?: ProcessErrorCode): error is ProcessError =>
  error instanceof ProcessError && (code === undefined || error.code === code);
