import { cod4x } from './cod4x.js';
import type { GameDefinition, InstanceSpec } from './definitions.js';
import { demo } from './demo.js';
import { GameError, UnknownGameError } from './errors.js';

export { cod4x } from './cod4x.js';
export * from './definitions.js';
export { demo } from './demo.js';
export * from './errors.js';
export { checkHealth, type GameStatus, type QueryTarget, queryGame } from './query.js';
export { renderArgs } from './render.js';

/** The games every agent knows. A game not listed here (or in the agent's config) cannot be installed or started. */
export const GAMES: Readonly<Record<string, GameDefinition>> = Object.freeze({ cod4x, demo });

export const isBuiltInGame = (name: string): boolean => Object.hasOwn(GAMES, name);

/** The definitions one agent knows: the built-ins plus the `games` of its config. */
export interface GameCatalog {
  get(name: string): GameDefinition;
  names(): string[];
}

/**
 * The built-ins plus `extra` (already validated by the config schema). A name that is a built-in
 * or given twice is refused here too, so no caller can shadow a built-in by accident.
 */
export const gameCatalog = (extra: readonly GameDefinition[] = []): GameCatalog => {
  const games = new Map<string, GameDefinition>(Object.entries(GAMES));
  for (const def of extra) {
    if (games.has(def.name)) {
      throw new GameError(
        'E_BAD_DEFINITION',
        isBuiltInGame(def.name)
          ? `game '${def.name}' is a built-in definition and cannot be redefined`
          : `game '${def.name}' is defined twice`,
      );
    }
    games.set(def.name, Object.freeze({ ...def }));
  }
  const names = () => [...games.keys()];
  return {
    names,
    get: (name) => {
      const def = games.get(name);
      if (!def) throw new UnknownGameError(name, names());
      return def;
    },
  };
};

const builtIns = gameCatalog();

export const gameNames = (): string[] => builtIns.names();

/** A built-in definition; an agent looks games up in its own catalog (`gameCatalog(config.games)`). */
export const getGame = (name: string): GameDefinition => builtIns.get(name);

/** The address the definition's health query goes to for an instance. */
export const queryTargetOf = (
  def: GameDefinition,
  instance: InstanceSpec,
): { host: string; port: number } => ({
  host: instance.host,
  port: instance.port + def.queryPortOffset,
});
