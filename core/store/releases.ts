import { UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { NotFoundError, StateConflictError } from '../errors.js';
import {
  Id,
  nowIso,
  Release,
  type ReleaseState,
  ROLLBACK_FROM_STATES,
  Target,
  TERMINAL_RELEASE_STATES,
  Version,
} from '../model/index.js';
import {
  CONDITION,
  getItem,
  isConditionFailure,
  mapPage,
  PK_NAME,
  putNew,
  queryPage,
  type StoreContext,
  toRecord,
  validate,
} from './dynamo.js';
import { idempotencyKeys, timeSortableId } from './idempotency.js';
import { byTypeKeys, ENTITY, itemKey } from './keys.js';
import { TABLE } from './table.js';
import { setFields, stateIn } from './transition.js';
import type { ReleaseStore } from './types.js';

const BY_TYPE = TABLE.indexes[0];

const NewRelease = z.object({
  id: z
    .string()
    .min(1)
    .max(80)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .optional(),
  game: Id,
  version: Version,
  packageId: z.string().min(1),
  target: Target,
  strategy: z.record(z.string(), z.unknown()),
  hostIds: z.array(Id).max(5000).optional(),
  createdBy: z.string().optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
});

/** `rel-20250101120000-k3v9x2mq`: sorts by creation time, unique by 40 random bits. */
export const newReleaseId = (now = new Date()): string => timeSortableId('rel', now);

export const createReleaseStore = (ctx: StoreContext): ReleaseStore => {
  const find = async (id: string): Promise<Release | undefined> => {
    const item = await getItem(ctx, itemKey(ENTITY.release, id));
    return item ? toRecord(Release, item, 'release') : undefined;
  };

  const idempotency = idempotencyKeys(ctx, 'release', find);

  /** One conditional update of a release record; answers the record as the update returns it. */
  const update = async (
    id: string,
    input: Omit<UpdateCommandInput, 'TableName' | 'Key' | 'ReturnValues'>,
    returnValues: 'ALL_NEW' | 'ALL_OLD' = 'ALL_NEW',
  ): Promise<Release> => {
    const out = await ctx.documents.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: itemKey(ENTITY.release, id),
        ...input,
        ReturnValues: returnValues,
      }),
    );
    return toRecord(Release, out.Attributes ?? {}, 'release');
  };

  /** After a failed condition: the record as it is now, or NotFoundError when there is none. */
  const currentAfter = async (id: string, error: unknown): Promise<Release> => {
    if (!isConditionFailure(error)) throw error;
    const current = await find(id);
    if (!current) throw new NotFoundError('release', id, { cause: error });
    return current;
  };

  return {
    async create(input) {
      const { idempotencyKey, ...fields } = validate(NewRelease, input, 'release');
      const now = new Date();
      const id = fields.id ?? newReleaseId(now);
      if (idempotencyKey !== undefined) {
        const existing = await idempotency.claim(fields.createdBy ?? '', idempotencyKey, id);
        if (existing !== undefined) return idempotency.replay(existing);
      }
      const createdAt = now.toISOString();
      const release: Release = {
        ...fields,
        id,
        state: 'pending',
        counters: {},
        hostIds: fields.hostIds ?? [],
        waves: [],
        createdAt,
        updatedAt: createdAt,
      };
      await putNew(
        ctx,
        {
          ...release,
          ...itemKey(ENTITY.release, release.id),
          ...byTypeKeys(ENTITY.release, `${createdAt}#${release.id}`),
        },
        `release '${release.id}' already exists`,
      );
      return release;
    },
    find,
    async findByIdempotencyKey(createdBy, key) {
      const id = await idempotency.peek(createdBy, key);
      return id === undefined ? undefined : idempotency.replay(id);
    },
    async get(id) {
      const release = await find(id);
      if (!release) throw new NotFoundError('release', id);
      return release;
    },
    async list(page) {
      const result = await queryPage(
        ctx,
        { index: BY_TYPE, partition: ENTITY.release, newestFirst: true },
        page,
      );
      return mapPage(result, (item) => toRecord(Release, item, 'release'));
    },
    async requestCancel(id, reason) {
      const live = stateIn(['running', 'waiting_approval'], 'live');
      try {
        const before = await update(
          id,
          {
            // Back to running: the gate is failed by the caller, and approve must find nothing.
            UpdateExpression:
              'SET #state = :running, #at = :now, #why = :why, #updatedAt = :now REMOVE #token',
            ConditionExpression: `${CONDITION.exists} AND ${live.expression} AND attribute_not_exists(#at)`,
            ExpressionAttributeNames: {
              ...PK_NAME,
              '#state': 'state',
              '#at': 'cancelRequestedAt',
              '#why': 'cancelReason',
              '#updatedAt': 'updatedAt',
              '#token': 'approvalToken',
            },
            ExpressionAttributeValues: {
              ':running': 'running',
              ':now': nowIso(),
              ':why': reason,
              ...live.values,
            },
          },
          'ALL_OLD',
        );
        return { before, requested: true };
      } catch (error) {
        const current = await currentAfter(id, error);
        if (current.cancelRequestedAt && !TERMINAL_RELEASE_STATES.includes(current.state)) {
          return { before: current, requested: false };
        }
        throw new StateConflictError<Release>(
          `release '${id}' is ${current.state}: there is nothing to cancel`,
          current,
          { cause: error },
        );
      }
    },
    async requestRollback(id) {
      const ended = stateIn(ROLLBACK_FROM_STATES, 'ended');
      try {
        return await update(id, {
          // A new attempt: its own execution name, and the last attempt's failure is history.
          UpdateExpression:
            'SET #at = :now, #updatedAt = :now, #attempts = if_not_exists(#attempts, :zero) + :one REMOVE #failure',
          ConditionExpression: `${CONDITION.exists} AND ${ended.expression} AND attribute_not_exists(#at)`,
          ExpressionAttributeNames: {
            ...PK_NAME,
            '#state': 'state',
            '#at': 'rollbackRequestedAt',
            '#updatedAt': 'updatedAt',
            '#attempts': 'rollbackAttempts',
            '#failure': 'rollbackFailure',
          },
          ExpressionAttributeValues: { ':now': nowIso(), ':zero': 0, ':one': 1, ...ended.values },
        });
      } catch (error) {
        const current = await currentAfter(id, error);
        throw new StateConflictError<Release>(
          current.state === 'rolled_back'
            ? `release '${id}' is already rolled back`
            : current.rollbackRequestedAt
              ? `release '${id}' is already being rolled back`
              : `release '${id}' is ${current.state}: only a succeeded, failed or cancelled release can be rolled back`,
          current,
          { cause: error },
        );
      }
    },
    async endRollback(id, failure) {
      const ended = stateIn(ROLLBACK_FROM_STATES, 'ended');
      try {
        return await update(id, {
          UpdateExpression: `SET #updatedAt = :now${failure === undefined ? '' : ', #failure = :failure'} REMOVE #at`,
          ConditionExpression: `${CONDITION.exists} AND ${ended.expression} AND attribute_exists(#at)`,
          ExpressionAttributeNames: {
            ...PK_NAME,
            '#state': 'state',
            '#at': 'rollbackRequestedAt',
            '#updatedAt': 'updatedAt',
            ...(failure === undefined ? {} : { '#failure': 'rollbackFailure' }),
          },
          ExpressionAttributeValues: {
            ':now': nowIso(),
            ...(failure === undefined ? {} : { ':failure': failure }),
            ...ended.values,
          },
        });
      } catch (error) {
        // No rollback pending (ended already, or a retried call): nothing to withdraw.
        const current = await currentAfter(id, error);
        return current;
      }
    },
    async transition(id, to: ReleaseState, fields = {}, from) {
      // The one move out of an ended state: a later rollback, named explicitly by the caller.
      const laterRollback =
        to === 'rolled_back' &&
        from !== undefined &&
        from.length > 0 &&
        from.every((state) => ROLLBACK_FROM_STATES.includes(state));
      const notTerminal = laterRollback ? undefined : stateIn(TERMINAL_RELEASE_STATES, 'end');
      const fromStates = from ? stateIn(from, 'from') : undefined;
      const conditions = [
        CONDITION.exists,
        notTerminal ? `NOT (${notTerminal.expression})` : undefined,
        fromStates?.expression,
      ];
      const set = setFields({
        reason: fields.reason,
        executionArn: fields.executionArn,
        counters: fields.counters,
        hostIds: fields.hostIds,
        waves: fields.waves,
        approvalToken: fields.approvalToken,
        approvalWave: fields.approvalWave,
        versions: fields.versions,
        hostVersions: fields.hostVersions,
        versionsBefore: fields.versionsBefore,
      });
      try {
        return await update(id, {
          UpdateExpression: `SET ${['#state = :to', '#updatedAt = :now', ...set.sets].join(', ')}`,
          ConditionExpression: conditions.filter(Boolean).join(' AND '),
          ExpressionAttributeNames: {
            ...PK_NAME,
            '#state': 'state',
            '#updatedAt': 'updatedAt',
            ...set.names,
          },
          ExpressionAttributeValues: {
            ':to': to,
            ':now': nowIso(),
            ...notTerminal?.values,
            ...fromStates?.values,
            ...set.values,
          },
        });
      } catch (error) {
        const current = await currentAfter(id, error);
        // Repeating a move that already happened (a retried finalize) is not a conflict.
        if (current.state === to) return current;
        throw new StateConflictError<Release>(
          `release '${id}' cannot move from ${current.state} to ${to}`,
          current,
          { cause: error },
        );
      }
    },
  };
};
