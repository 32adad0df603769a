import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.js';
import { getItem, type StoreContext } from './dynamo.js';
import { ENTITY, itemKey, stripInternal } from './keys.js';
import type { CounterStore } from './types.js';

const COUNTER_NAME = /^[a-z][a-zA-Z0-9_]{0,31}$/;

const toCounters = (item: Record<string, unknown> | undefined): Record<string, number> => {
  const counters: Record<string, number> = {};
  for (const [name, value] of Object.entries(stripInternal(item ?? {}))) {
    if (typeof value === 'number' && COUNTER_NAME.test(name)) counters[name] = value;
  }
  return counters;
};

/**
 * Per-parent counters (an action's or a release's succeeded/failed/...): one item, atomic ADDs,
 * so relays on several machines share one error budget without read-modify-write races.
 */
export const createCounterStore = (ctx: StoreContext): CounterStore => ({
  async add(parentId, deltas) {
    const entries = Object.entries(deltas);
    const bad = entries.filter(([name, by]) => !COUNTER_NAME.test(name) || !Number.isInteger(by));
    if (entries.length === 0 || bad.length > 0) {
      throw new ValidationError(
        'invalid counter update',
        bad.map(([name]) => ({ path: name, message: 'counters have simple names and integer deltas' })),
      );
    }
    const out = await ctx.documents.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: itemKey(ENTITY.counters, parentId),
        UpdateExpression: `ADD ${entries.map((_, i) => `#c${i} :v${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#c${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, by], i) => [`:v${i}`, by])),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toCounters(out.Attributes);
  },
  async get(parentId) {
    return toCounters(await getItem(ctx, itemKey(ENTITY.counters, parentId)));
  },
});
