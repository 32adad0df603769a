import { z } from 'zod';
import { Timestamp } from './common.js';

export const Role = z.enum(['viewer', 'operator', 'admin']);
export type Role = z.infer<typeof Role>;

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** viewer < operator < admin: a key may do what its role and every lower role may. */
export const roleAllows = (have: Role, need: Role): boolean => RANK[have] >= RANK[need];

export const ApiKeyRecord = z.object({
  id: z.string().regex(/^[a-z0-9]{12}$/),
  name: z.string().min(1).max(100),
  role: Role,
  /**
   * SHA-256 of the whole key. Keys carry 256 random bits, so a fast hash is safe (nothing to
   * brute-force) and keeps the per-request check cheap; the key itself is never stored.
   */
  hash: z.string().regex(/^[a-f0-9]{64}$/),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.optional(),
  revokedAt: Timestamp.optional(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

export type ApiKeyInfo = Omit<ApiKeyRecord, 'hash'>;

export const toApiKeyInfo = ({ hash, ...info }: ApiKeyRecord): ApiKeyInfo => info;
