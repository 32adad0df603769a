import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../errors.js';
import { nowIso, type ReleaseState, releaseHasEnded } from '../model/index.js';
import { getItem, isConditionFailure, type StoreContext } from './dynamo.js';
import { ENTITY, itemKey, type Key } from './keys.js';
import { TABLE } from './table.js';
import type { HostLockStore } from './types.js';

/** `hostlock#<host id>`: one item per host, holding the id of the release that may change it. */
const lockKey = (hostId: string): Key => ({
  [TABLE.partitionKey]: `hostlock#${hostId}`,
  [TABLE.sortKey]: 'HOSTLOCK',
});

/** Hosts locked at once: enough to take a 5000-host target quickly, few enough not to throttle. */
const PARALLEL = 25;
/** A lock changing hands under us is retried this often before the host counts as busy. */
const TAKEOVER_ATTEMPTS = 3;

/**
 * Locks are taken before the release record is written: a holder with no record is a create in
 * progress for this long, and a create that died after that.
 */
export const ORPHAN_LOCK_GRACE_MS = 60_000;

/** A holder that has ended (or vanished) no longer needs its hosts, unless it is rolling back. */
const holderEnded = async (ctx: StoreContext, releaseId: string, lockedAt: unknown): Promise<boolean> => {
  const item = await getItem(ctx, itemKey(ENTITY.release, releaseId));
  if (!item) {
    const at = typeof lockedAt === 'string' ? Date.parse(lockedAt) : Number.NaN;
    return !(Date.now() - at < ORPHAN_LOCK_GRACE_MS);
  }
  return releaseHasEnded({
    state: item.state as ReleaseState,
    rollbackRequestedAt: item.rollbackRequestedAt as string | undefined,
  });
};

/**
 * Per-host locks so two releases never change the same host at once. Every write is
 * conditional on the current holder, so two creates racing for a host cannot both win, and a
 * lock left by a release that ended without giving it back is taken over, not waited for.
 */
export const createHostLockStore = (ctx: StoreContext): HostLockStore => {
  const put = (hostId: string, releaseId: string, condition: string, values: Record<string, unknown>) =>
    ctx.documents.send(
      new PutCommand({
        TableName: ctx.table,
        Item: { ...lockKey(hostId), hostId, releaseId, lockedAt: nowIso() },
        ConditionExpression: condition,
        ExpressionAttributeNames: {
          '#holder': 'releaseId',
          ...(condition.includes('#pk') ? { '#pk': TABLE.partitionKey } : {}),
        },
        ExpressionAttributeValues: values,
      }),
    );

  /** undefined when `releaseId` holds the host now; otherwise the release that does. */
  const takeOne = async (hostId: string, releaseId: string): Promise<string | undefined> => {
    for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
      try {
        await put(hostId, releaseId, 'attribute_not_exists(#pk) OR #holder = :me', { ':me': releaseId });
        return undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const lock = await getItem(ctx, lockKey(hostId));
      const holder = lock?.releaseId;
      if (typeof holder !== 'string') continue;
      if (!(await holderEnded(ctx, holder, lock?.lockedAt))) return holder;
      try {
        await put(hostId, releaseId, '#holder = :old', { ':old': holder });
        return undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return (await getItem(ctx, lockKey(hostId)))?.releaseId as string | undefined;
  };

  const giveBack = async (releaseId: string, hostIds: readonly string[]) => {
    for (let i = 0; i < hostIds.length; i += PARALLEL) {
      await Promise.all(
        hostIds.slice(i, i + PARALLEL).map((hostId) =>
          ctx.documents
            .send(
              new DeleteCommand({
                TableName: ctx.table,
                Key: lockKey(hostId),
                ConditionExpression: '#holder = :me',
                ExpressionAttributeNames: { '#holder': 'releaseId' },
                ExpressionAttributeValues: { ':me': releaseId },
              }),
            )
            .catch((error: unknown) => {
              // Another release holds it (taken over after this one ended): not ours to free.
              if (!isConditionFailure(error)) throw error;
            }),
        ),
      );
    }
  };

  return {
    async acquire(releaseId, hostIds) {
      // Sorted, the first host alone: two releases racing for the same hosts meet on it first,
      // so one of them wins instead of each taking half and both giving up.
      const sorted = [...new Set(hostIds)].sort();
      const batches = [sorted.slice(0, 1)];
      for (let i = 1; i < sorted.length; i += PARALLEL) batches.push(sorted.slice(i, i + PARALLEL));
      const taken: string[] = [];
      for (const batch of batches) {
        const holders = await Promise.all(batch.map((hostId) => takeOne(hostId, releaseId)));
        batch.forEach((hostId, j) => {
          if (holders[j] === undefined) taken.push(hostId);
        });
        const busy = batch.findIndex((_, j) => holders[j] !== undefined);
        if (busy >= 0) {
          await giveBack(releaseId, taken);
          throw new ConflictError(
            `host '${batch[busy]}' is busy in release '${holders[busy]}': two releases may not change a host at once`,
          );
        }
      }
    },
    release: giveBack,
    async holder(hostId) {
      const holder = (await getItem(ctx, lockKey(hostId)))?.releaseId;
      return typeof holder === 'string' ? holder : undefined;
    },
  };
};
