import { GsmError } from '../../core/errors.js';

/**
 * The installer's errors, on the shared GsmError base. Their codes travel in the agent's RESULT
 * frames; every code is stable: the agent core and the relay switch on it, people read the message.
 */
export type InstallerErrorCode =
  | 'E_INVALID_ARGUMENT'
  | 'E_DOWNLOAD'
  | 'E_SIZE_MISMATCH'
  | 'E_HASH_MISMATCH'
  | 'E_ALL_ORIGINS_FAILED'
  | 'E_ARCHIVE_FORMAT'
  | 'E_ARCHIVE_UNSAFE'
  | 'E_ARCHIVE_TOO_LARGE'
  | 'E_NO_BZIP2'
  | 'E_EXTRACT'
  | 'E_RELEASE'
  | 'E_ABORTED';

export class InstallerError extends GsmError {
  declare readonly code: InstallerErrorCode;

  constructor(code: InstallerErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Worth trying the next origin: the bytes (or the connection) were bad, not the package. */
export class DownloadError extends InstallerError {
  readonly origin: string;

  constructor(
    origin: string,
    message: string,
    code: 'E_DOWNLOAD' | 'E_SIZE_MISMATCH' = 'E_DOWNLOAD',
    options?: ErrorOptions,
  ) {
    super(code, `${message} (origin ${origin})`, options);
    this.origin = origin;
  }
}

export class HashMismatchError extends InstallerError {
  readonly expected: string;
  readonly actual: string;
  readonly origin: string;

  constructor(expected: string, actual: string, origin: string, note = '') {
    super(
      'E_HASH_MISMATCH',
      `SHA-256 mismatch: expected ${expected}, got ${actual} from origin ${origin}${note ? ` (${note})` : ''}`,
    );
    this.expected = expected;
    this.actual = actual;
    this.origin = origin;
  }
}

export interface OriginFailure {
  readonly origin: string;
  readonly error: Error;
}

export class AllOriginsFailedError extends InstallerError {
  readonly failures: readonly OriginFailure[];

  constructor(failures: readonly OriginFailure[]) {
    const detail = failures.map((f) => `${f.origin}: ${codeOf(f.error)} ${f.error.message}`).join('; ');
    super('E_ALL_ORIGINS_FAILED', `every origin failed: ${detail}`);
    this.failures = failures;
  }
}

export class ArchiveError extends InstallerError {
  /** The archive path of the entry that was refused, when one was. */
  readonly entry: string | undefined;

  constructor(
    code: 'E_ARCHIVE_FORMAT' | 'E_ARCHIVE_UNSAFE' | 'E_ARCHIVE_TOO_LARGE' | 'E_NO_BZIP2',
    message: string,
    entry?: string,
    options?: ErrorOptions,
  ) {
    super(code, entry === undefined ? message : `${message}: ${JSON.stringify(entry)}`, options);
    this.entry = entry;
  }
}

export class AbortedError extends InstallerError {
  constructor(options?: ErrorOptions) {
    super('E_ABORTED', 'the install was cancelled', options);
  }
}

export const codeOf = (error: unknown): string =>
  error instanceof InstallerError ? error.code : ((error as { code?: string })?.code ?? 'E_UNKNOWN');

export const isInstallerError = (error: unknown): error is InstallerError => error instanceof InstallerError;
