import { cod4x } from './cod4x.js';
import type { GameDefinition, InstanceSpec } from './definitions.js';
import { demo } from './demo.js';
import { UnknownGameError } from './errors.js';

export { cod4x } from './cod4x.js';
export * from './definitions.js';
export { demo } from './demo.js';
export * from './errors.js';
export { checkHealth, type GameStatus, type QueryTarget, queryGame } from './query.js';
export { renderArgs } from './render.js';

/** The games this agent knows. A game not listed here cannot be installed or started. */
export const GAMES: Readonly<Record<string, GameDefinition>> = Object.freeze({ cod4x, demo });

export const gameNames = (): string[] => Object.keys(GAMES);

export const getGame = (name: string): GameDefinition => {
  const def = Object.hasOwn(GAMES, name) ? GAMES[name] : undefined;
  if (!def) throw new UnknownGameError(name, gameNames());
  return def;
};

/** The address the definition's health query goes to for an instance. */
export const queryTargetOf = (
  def: GameDefinition,
  instance: InstanceSpec,
): { host: string; port: number } => ({
  host: instance.host,
  port: instance.port + def.queryPortOffset,
});
