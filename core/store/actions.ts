import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { NotFoundError, StateConflictError } from '../errors.js';
import {
  ACTION_TRANSITIONS,
  Action,
  ActionName,
  ActionParams,
  type ActionState,
  ActionStrategy,
  isTerminalActionState,
  nowIso,
  Target,
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
import type { ActionStore } from './types.js';

const BY_TYPE = TABLE.indexes[0];

const NewAction = z.object({
  id: z
    .string()
    .min(1)
    .max(80)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .optional(),
  action: ActionName,
  target: Target,
  params: ActionParams.default({}),
  strategy: ActionStrategy.default(ActionStrategy.parse({})),
  createdBy: z.string().max(128).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
});

/** `act-20250101120000-k3v9x2mq`: sorts by creation time, unique by 40 random bits. */
export const newActionId = (now = new Date()): string => timeSortableId('act', now);

export const createActionStore = (ctx: StoreContext): ActionStore => {
  const find = async (id: string): Promise<Action | undefined> => {
    const item = await getItem(ctx, itemKey(ENTITY.action, id));
    return item ? toRecord(Action, item, 'action') : undefined;
  };

  const idempotency = idempotencyKeys(ctx, 'action', find);

  return {
    async create(input) {
      const { idempotencyKey, ...fields } = validate(NewAction, input, 'action');
      const now = new Date();
      const id = fields.id ?? newActionId(now);
      if (idempotencyKey !== undefined) {
        const existing = await idempotency.claim(fields.createdBy ?? '', idempotencyKey, id);
        if (existing !== undefined) return idempotency.replay(existing);
      }
      const createdAt = now.toISOString();
      const action: Action = {
        ...fields,
        id,
        state: 'pending',
        hostIds: [],
        counters: {},
        createdAt,
        updatedAt: createdAt,
      };
      await putNew(
        ctx,
        {
          ...action,
          ...itemKey(ENTITY.action, id),
          ...byTypeKeys(ENTITY.action, `${createdAt}#${id}`),
        },
        `action '${id}' already exists`,
      );
      return action;
    },
    async get(id) {
      const action = await find(id);
      if (!action) throw new NotFoundError('action', id);
      return action;
    },
    async list(page) {
      const result = await queryPage(
        ctx,
        { index: BY_TYPE, partition: ENTITY.action, newestFirst: true },
        page,
      );
      return mapPage(result, (item) => toRecord(Action, item, 'action'));
    },
    async transition(id, to: ActionState, fields = {}, from) {
      const legal = (Object.keys(ACTION_TRANSITIONS) as ActionState[]).filter((state) =>
        ACTION_TRANSITIONS[state].includes(to),
      );
      const allowed = from ? legal.filter((state) => from.includes(state)) : legal;
      const fromStates = stateIn(allowed, 'from');
      const now = nowIso();
      const set = setFields({
        reason: fields.reason,
        executionArn: fields.executionArn,
        counters: fields.counters,
        hostIds: fields.hostIds,
        endedAt: isTerminalActionState(to) ? now : undefined,
      });
      const sets = ['#state = :to', '#updatedAt = :now', ...set.sets];
      if (to === 'running') sets.push('#startedAt = if_not_exists(#startedAt, :now)');
      try {
        const out = await ctx.documents.send(
          new UpdateCommand({
            TableName: ctx.table,
            Key: itemKey(ENTITY.action, id),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: `${CONDITION.exists} AND ${fromStates.expression}`,
            ExpressionAttributeNames: {
              ...PK_NAME,
              '#state': 'state',
              '#updatedAt': 'updatedAt',
              ...(to === 'running' ? { '#startedAt': 'startedAt' } : {}),
              ...set.names,
            },
            ExpressionAttributeValues: { ':to': to, ':now': now, ...fromStates.values, ...set.values },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toRecord(Action, out.Attributes ?? {}, 'action');
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const current = await find(id);
        if (!current) throw new NotFoundError('action', id, { cause: error });
        // A retried task repeating the move that already happened is not a conflict.
        if (current.state === to) return current;
        throw new StateConflictError<Action>(
          `action '${id}' cannot move from ${current.state} to ${to}`,
          current,
          {
            cause: error,
          },
        );
      }
    },
  };
};
