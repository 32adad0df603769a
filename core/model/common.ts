import { z } from 'zod';

/** Lower-case identifiers that are safe in keys, URLs, file names and tags. */
export const Id = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'use lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  );
export type Id = z.infer<typeof Id>;

export const Timestamp = z.iso.datetime();
export type Timestamp = z.infer<typeof Timestamp>;

export const TagKey = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'tag keys use letters, digits, ".", "_", "/" or "-"');
export const TagValue = z
  .string()
  .max(255)
  .regex(/^[^=,]*$/, 'tag values cannot contain "=" or ","');
export const Tags = z.record(TagKey, TagValue);
export type Tags = z.infer<typeof Tags>;

export const Port = z.number().int().min(1).max(65535);

/** A semantic-ish version: what a build calls itself (1.1.0, 21.3-hotfix2). */
export const Version = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'versions use letters, digits, ".", "_", "+" or "-"');

export const Sha256 = z.string().regex(/^[a-f0-9]{64}$/, 'a SHA-256 is 64 lower-case hex digits');

/** A page of a list: `next` is an opaque cursor, null on the last page. */
export interface Page<T> {
  readonly items: T[];
  readonly next: string | null;
}

export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string | null;
}

export const nowIso = (): string => new Date().toISOString();
