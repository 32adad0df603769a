import { GsmError } from '../core/errors.js';

/**
 * Every failure of the wire protocol is a `ProtocolError` with a stable `code`; the relay and
 * the agent switch on the code (and send it in ERROR frames), the message is for people.
 */
export const PROTOCOL_ERROR_CODES = [
  'E_FRAME_TOO_LARGE',
  'E_BAD_FRAME',
  'E_BAD_JSON',
  'E_BAD_MESSAGE',
  'E_UNKNOWN_TYPE',
  'E_UNEXPECTED',
  'E_VERSION',
  'E_AUTH_FAILED',
  'E_BAD_MAC',
  'E_REPLAY',
  'E_SEQUENCE',
  'E_TLS',
  'E_TIMEOUT',
  'E_CLOSED',
  'E_ABORTED',
  'E_CONFIG',
  'E_INTERNAL',
  'E_PEER',
  'E_LEGACY_BAD_REPLY',
  'E_LEGACY_JOB_MISMATCH',
  'E_LEGACY_REJECTED',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export const isProtocolErrorCode = (code: string): code is ProtocolErrorCode =>
  (PROTOCOL_ERROR_CODES as readonly string[]).includes(code);

export class ProtocolError extends GsmError {
  declare readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Raised as soon as the 4-byte header arrives, before any of the body is buffered. */
export class FrameTooLargeError extends ProtocolError {
  readonly declared: number;
  readonly limit: number;

  constructor(declared: number, limit: number) {
    super('E_FRAME_TOO_LARGE', `frame declares ${declared} bytes, more than the ${limit}-byte limit`);
    this.declared = declared;
    this.limit = limit;
  }
}

export class VersionError extends ProtocolError {
  readonly offered: number;
  readonly supported: readonly number[];

  constructor(offered: number, supported: readonly number[], message?: string) {
    super(
      'E_VERSION',
      message ?? `protocol version ${offered} is not supported (supported: ${supported.join(', ')})`,
    );
    this.offered = offered;
    this.supported = supported;
  }
}

/**
 * The peer sent an ERROR frame and closes. `code` is the peer's code when it is one of ours
 * (so a client sees E_AUTH_FAILED whichever side found the bad proof), E_PEER otherwise.
 */
export class PeerError extends ProtocolError {
  readonly remoteCode: string;
  readonly remoteMessage: string;

  constructor(remoteCode: string, remoteMessage: string) {
    super(isProtocolErrorCode(remoteCode) ? remoteCode : 'E_PEER', `peer: ${remoteCode}: ${remoteMessage}`);
    this.remoteCode = remoteCode;
    this.remoteMessage = remoteMessage;
  }
}

export class LegacyJobMismatchError extends ProtocolError {
  readonly expected: number;
  readonly received: number;

  constructor(expected: number, received: number) {
    super('E_LEGACY_JOB_MISMATCH', `legacy agent acknowledged job ${received}, but job ${expected} was sent`);
    this.expected = expected;
    this.received = received;
  }
}

export const isProtocolError = (error: unknown, code?: ProtocolErrorCode): error is ProtocolError =>
  error instanceof ProtocolError && (code === undefined || error.code === code);
