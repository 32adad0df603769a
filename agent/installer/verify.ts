import { createHash, type Hash } from 'node:crypto';
import { DownloadError, HashMismatchError, InstallerError } from './errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const normalizeSha256 = (value: string): string => {
  const hex = value.trim().toLowerCase();
  if (!SHA256_HEX.test(hex))
    throw new InstallerError('E_INVALID_ARGUMENT', `not a SHA-256 hex digest: ${value}`);
  return hex;
};

export interface VerifyResult {
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * SHA-256 and byte count of one download, fed chunk by chunk in the same pass that feeds the
 * extractor (Node's hash runs at ~1 GB/s here, 4× sha256sum). Too many bytes fail at once, so a
 * hostile origin cannot stream forever; the final digest decides everything else.
 */
export class StreamVerifier {
  readonly #hash: Hash = createHash('sha256');
  readonly #expected: string;
  readonly #size: number | undefined;
  readonly #origin: string;
  #bytes = 0;

  constructor(expectedSha256: string, expectedSize: number | undefined, origin: string) {
    this.#expected = normalizeSha256(expectedSha256);
    this.#size = expectedSize;
    this.#origin = origin;
  }

  get bytes(): number {
    return this.#bytes;
  }

  update(chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (this.#size !== undefined && this.#bytes > this.#size) {
      throw new DownloadError(
        this.#origin,
        `more than the expected ${this.#size} bytes were served`,
        'E_SIZE_MISMATCH',
      );
    }
    this.#hash.update(chunk);
  }

  /** The digest of everything fed; throws when it or the size differ from what was expected. */
  finish(note = ''): VerifyResult {
    const actual = this.#hash.digest('hex');
    if (this.#size !== undefined && this.#bytes !== this.#size) {
      throw new DownloadError(
        this.#origin,
        `size mismatch: expected ${this.#size} bytes, got ${this.#bytes}`,
        'E_SIZE_MISMATCH',
      );
    }
    if (actual !== this.#expected) throw new HashMismatchError(this.#expected, actual, this.#origin, note);
    return { sha256: actual, bytes: this.#bytes };
  }
}
