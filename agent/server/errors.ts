import { GsmError } from '../../core/errors.js';

/**
 * The agent's own refusals and failures. Each has a stable `code` that travels in a RESULT
 * frame (the relay switches on it); the message is for people. Installer, process and game
 * errors keep their own codes (`E_HASH_MISMATCH`, `E_RUN_AS_ROOT`, `E_UNKNOWN_GAME`, …).
 */
export type AgentErrorCode =
  | 'E_UNKNOWN_ACTION'
  | 'E_ACTION_NOT_ALLOWED'
  | 'E_BAD_PARAMS'
  | 'E_UNKNOWN_INSTANCE'
  | 'E_UNKNOWN_GAME'
  | 'E_GAME_MISMATCH'
  | 'E_WRONG_ROLE'
  | 'E_BUSY'
  | 'E_NOT_INSTALLED'
  | 'E_HEALTH_CHECK_FAILED'
  | 'E_CANCELLED'
  | 'E_UNKNOWN_JOB'
  | 'E_AGENT_RESTARTED'
  | 'E_SHUTTING_DOWN'
  | 'E_INTERNAL';

export class AgentError extends GsmError {
  declare readonly code: AgentErrorCode;

  constructor(code: AgentErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** A mutating action while another runs on the same instance (Wings' powerLock TryAcquire). */
export class BusyError extends AgentError {
  readonly runningJob: string;

  constructor(instance: string, runningJob: string, runningAction: string) {
    super(
      'E_BUSY',
      `instance '${instance}' is busy with job ${runningJob} (${runningAction}); retry when it ends`,
    );
    this.runningJob = runningJob;
  }
}

export interface JobError {
  readonly code: string;
  readonly message: string;
}

const MAX_MESSAGE = 2000;
const CODE = /^E_[A-Z0-9_]{1,60}$/;

/** Any thrown value as a RESULT error: typed errors keep their code, the rest is E_INTERNAL. */
export const toJobError = (error: unknown): JobError => {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: typeof code === 'string' && CODE.test(code) ? code : 'E_INTERNAL',
    message: message.slice(0, MAX_MESSAGE) || 'failed',
  };
};
