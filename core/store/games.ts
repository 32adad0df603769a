import { NotFoundError } from '../errors.js';
import { Game, GameInput, nowIso, ReleasePolicy } from '../model/index.js';
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
import { setAttribute } from './set-attribute.js';
import { TABLE } from './table.js';
import type { GameStore } from './types.js';

const BY_TYPE = TABLE.indexes[0];

export const createGameStore = (ctx: StoreContext): GameStore => {
  const read = async (name: string) => {
    const item = await getItem(ctx, itemKey(ENTITY.game, name));
    if (!item) throw new NotFoundError('game', name);
    return toRecord(Game, item, 'game');
  };

  return {
    async create(input) {
      const now = nowIso();
      const game: Game = { ...validate(GameInput, input, 'game'), createdAt: now, updatedAt: now };
      await putNew(
        ctx,
        { ...game, ...itemKey(ENTITY.game, game.name), ...byTypeKeys(ENTITY.game, game.name) },
        `game '${game.name}' already exists`,
      );
      return game;
    },
    get: read,
    async list(page) {
      const result = await queryPage(ctx, { index: BY_TYPE, partition: ENTITY.game }, page);
      return mapPage(result, (item) => toRecord(Game, item, 'game'));
    },
    async setPolicy(name, input) {
      const policy = validate(ReleasePolicy, input, 'release policy');
      return setAttribute(
        ctx,
        { schema: Game, entity: ENTITY.game, what: 'game', id: name },
        'policy',
        policy,
      );
    },
    async remove(name) {
      await deleteExisting(ctx, itemKey(ENTITY.game, name), 'game', name);
    },
  };
};
