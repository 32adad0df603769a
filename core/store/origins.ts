import { NotFoundError } from '../errors.js';
import { nowIso, Origin, OriginInput } from '../model/index.js';
import {
  deleteExisting,
  getItem,
  mapPage,
  putNew,
  queryPage,
  type StoreContext,
  toRecord,
  validate,
} from './dynamo.js';
import { byTypeKeys, ENTITY, itemKey } from './keys.js';
import { TABLE } from './table.js';
import type { OriginStore } from './types.js';

const BY_TYPE = TABLE.indexes[0];

export const createOriginStore = (ctx: StoreContext): OriginStore => ({
  async create(input) {
    const now = nowIso();
    const origin: Origin = { ...validate(OriginInput, input, 'origin'), createdAt: now, updatedAt: now };
    await putNew(
      ctx,
      { ...origin, ...itemKey(ENTITY.origin, origin.id), ...byTypeKeys(ENTITY.origin, origin.id) },
      `origin '${origin.id}' already exists`,
    );
    return origin;
  },
  async get(id) {
    const item = await getItem(ctx, itemKey(ENTITY.origin, id));
    if (!item) throw new NotFoundError('origin', id);
    return toRecord(Origin, item, 'origin');
  },
  async list(page) {
    const result = await queryPage(ctx, { index: BY_TYPE, partition: ENTITY.origin }, page);
    return mapPage(result, (item) => toRecord(Origin, item, 'origin'));
  },
  async remove(id) {
    await deleteExisting(ctx, itemKey(ENTITY.origin, id), 'origin', id);
  },
});
