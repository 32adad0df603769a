import { createHash } from 'node:crypto';
import type { ApiKeyRecord } from '../../../core/model/index.js';
import type { ApiKeyStore } from '../../../core/store/types.js';

export interface VerifiedKeyCacheOptions {
  /**
   * How long a verified key is trusted without reading its record again. A key revoked through
   * another API instance keeps working here for at most this long; one revoked through this
   * instance stops at once (`forget`).
   */
  readonly ttlMs?: number;
  /** Keys remembered at once; the oldest is dropped first. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export interface VerifiedKeyCache {
  /** The key's record, from memory while fresh, else verified against the store (its errors as is). */
  verify(token: string): Promise<ApiKeyRecord>;
  /** Drops every remembered token of this key id (after a revoke). */
  forget(keyId: string): void;
}

export const VERIFIED_KEY_DEFAULTS = { ttlMs: 15_000, maxEntries: 1_000 } as const;

/**
 * Every API request carries its key, and reading the key's record doubled the store calls of each
 * read (a GET of hosts was an auth GetItem, then the Query). Remembering a verified key for a few
 * seconds removes that read; a failed verification is never remembered, so a wrong key is always
 * refused by the store's own check.
 */
export const createVerifiedKeyCache = (
  apiKeys: Pick<ApiKeyStore, 'verify'>,
  options: VerifiedKeyCacheOptions = {},
): VerifiedKeyCache => {
  const { ttlMs, maxEntries } = { ...VERIFIED_KEY_DEFAULTS, ...options };
  const now = options.now ?? Date.now;
  // Keyed by the token's hash: the whole secret must match, not only the id inside it.
  const entries = new Map<string, { record: ApiKeyRecord; expiresAt: number }>();
  const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

  return {
    async verify(token) {
      const key = digest(token);
      const entry = entries.get(key);
      if (entry && entry.expiresAt > now()) return entry.record;
      entries.delete(key);
      const record = await apiKeys.verify(token);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(key, { record, expiresAt: now() + ttlMs });
      return record;
    },
    forget(keyId) {
      for (const [key, entry] of entries) if (entry.record.id === keyId) entries.delete(key);
    },
  };
};
