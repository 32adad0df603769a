import { type ErrorCode, GsmError } from '../core/errors.js';

/**
 * The relay's per-host failure codes. They end up in a job's `error.code`, so the API, the
 * CLI and the workflows switch on them; protocol failures keep the protocol's own codes.
 */
export const RELAY_ERROR_CODES = {
  unknownHost: 'E_UNKNOWN_HOST',
  errorBudget: 'E_ERROR_BUDGET',
  stopped: 'E_STOPPED',
  unsupportedByLegacy: 'E_UNSUPPORTED_BY_LEGACY',
  legacyOutcomeUnknown: 'E_LEGACY_OUTCOME_UNKNOWN',
  timeout: 'E_TIMEOUT',
  unreachable: 'E_AGENT_UNREACHABLE',
  shuttingDown: 'E_RELAY_SHUTDOWN',
  invalidInput: 'E_INVALID_INPUT',
} as const satisfies Record<string, ErrorCode>;

export class RelayError extends GsmError {}

/** The Error name a workflow's Retry/Catch sees for a shard the relay refused outright. */
export const INVALID_INPUT_ERROR = 'gsm.InvalidInput';
/** Anything the relay could not turn into per-host outcomes (the store was down, ...). */
export const RELAY_FAILED_ERROR = 'gsm.RelayFailed';
