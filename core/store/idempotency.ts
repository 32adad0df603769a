import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../errors.js';
import { getItem, putNew, type StoreContext } from './dynamo.js';
import { ENTITY, itemKey } from './keys.js';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** `act-20250101120000-k3v9x2mq`: sorts by creation time, unique by 40 random bits. */
export const timeSortableId = (prefix: string, now = new Date()): string => {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const random = [...randomBytes(8)].map((byte) => CROCKFORD[byte % 32]).join('');
  return `${prefix}-${stamp}-${random}`;
};

/** Idempotency records outlive any sane client retry, then DynamoDB's TTL removes them. */
const IDEMPOTENCY_TTL_SEC = 24 * 60 * 60;
/** How long a repeat waits for the first request's record to appear. */
const REPLAY_WAIT_MS = 2_000;

export interface IdempotencyKeys<T> {
  /** The id `key` already points at, if any, claiming nothing. */
  peek(scope: string, key: string): Promise<string | undefined>;
  /** The id `key` already points at, or undefined once this call has claimed it for `id`. */
  claim(scope: string, key: string, id: string): Promise<string | undefined>;
  /** The record the first request created, waiting briefly while that request is still writing it. */
  replay(id: string): Promise<T>;
}

const keyItem = (kind: string, scope: string, key: string) =>
  itemKey(
    ENTITY.idempotency,
    `${kind}:${createHash('sha256').update(`${scope}\n${key}`).digest('base64url')}`,
  );

/**
 * `Idempotency-Key` support for creates: a conditional put claims the key (scoped to the caller)
 * for the new record's id, so concurrent retries agree on one record without transactions.
 */
export const idempotencyKeys = <T>(
  ctx: StoreContext,
  kind: string,
  find: (id: string) => Promise<T | undefined>,
): IdempotencyKeys<T> => ({
  async peek(scope, key) {
    const item = await getItem(ctx, keyItem(kind, scope, key));
    return typeof item?.recordId === 'string' ? item.recordId : undefined;
  },
  async claim(scope, key, id) {
    const keyOf = keyItem(kind, scope, key);
    try {
      await putNew(
        ctx,
        { ...keyOf, recordId: id, expiresAt: Math.floor(Date.now() / 1000) + IDEMPOTENCY_TTL_SEC },
        'taken',
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const item = await getItem(ctx, keyOf);
      return typeof item?.recordId === 'string' ? item.recordId : undefined;
    }
  },
  async replay(id) {
    const deadline = Date.now() + REPLAY_WAIT_MS;
    for (;;) {
      const record = await find(id);
      if (record) return record;
      if (Date.now() > deadline) {
        throw new ConflictError(`a request with this Idempotency-Key (${kind} '${id}') is still in progress`);
      }
      await sleep(50);
    }
  },
});
