import { connect } from 'node:net';
import { GameDig } from 'gamedig';
import type { GameDefinition } from './definitions.js';
import { GameError, QueryFailedError, QueryTimeoutError } from './errors.js';

export interface QueryTarget {
  readonly host: string;
  readonly port: number;
  /** Defaults to the definition's health timeout. */
  readonly timeoutMs?: number;
}

/** What a game server says about itself over its query protocol. */
export interface GameStatus {
  readonly name: string;
  readonly map: string;
  readonly players: number;
  readonly maxPlayers: number;
  /** Round trip of the query, in ms. */
  readonly ping: number;
  readonly version?: string;
}

// One UDP socket for all queries: gamedig matches answers to queries by address and port.
let gamedig: GameDig | undefined;
const client = (): GameDig => {
  gamedig ??= new GameDig();
  return gamedig;
};

/**
 * Races `work` against our own deadline so a timeout is always a QueryTimeoutError, whatever
 * message the library would have used; the library's own timeouts are set later than ours.
 */
const withDeadline = <T>(work: Promise<T>, target: { host: string; port: number }, timeoutMs: number) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new QueryTimeoutError(target.host, target.port, timeoutMs)),
      timeoutMs,
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

const toNumber = (value: unknown): number => {
  const n = typeof value === 'number' ? value : Number.parseInt(String(value ?? ''), 10);
  return Number.isFinite(n) ? n : 0;
};

/**
 * Asks a game server for its name, map and players through gamedig (a real UDP query, Quake 3
 * `getstatus` for CoD4x). Fails with QueryTimeoutError when nothing answers in time and with
 * QueryFailedError for anything else; a definition without a game query is E_QUERY_UNSUPPORTED.
 */
export const queryGame = async (def: GameDefinition, target: QueryTarget): Promise<GameStatus> => {
  const health = def.health;
  if (health.kind !== 'gamedig') {
    throw new GameError(
      'E_QUERY_UNSUPPORTED',
      `game '${def.name}' has no query protocol (health: ${health.kind})`,
    );
  }
  const timeoutMs = target.timeoutMs ?? health.timeoutMs;
  const work = client().query({
    type: health.type,
    host: target.host,
    port: target.port,
    givenPortOnly: true,
    portCache: false,
    maxRetries: 1,
    socketTimeout: timeoutMs + 1000,
    attemptTimeout: timeoutMs + 1000,
  });
  // Once our deadline has passed nobody awaits the library's promise; its rejection is expected.
  work.catch(() => {});
  try {
    const result = await withDeadline(work, target, timeoutMs);
    return {
      name: result.name,
      map: result.map,
      players: result.players.length + result.bots.length,
      maxPlayers: toNumber(result.maxplayers),
      ping: toNumber(result.ping),
      version:
        typeof result.raw.shortversion === 'string' ? result.raw.shortversion : result.version || undefined,
    };
  } catch (error) {
    if (error instanceof GameError) throw error;
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new QueryFailedError(target.host, target.port, message ?? 'unknown error', { cause: error });
  }
};

const tcpCheck = (target: { host: string; port: number }, timeoutMs: number): Promise<void> =>
  withDeadline(
    new Promise<void>((resolve, reject) => {
      const socket = connect({ host: target.host, port: target.port });
      const done = (error?: Error) => {
        socket.destroy();
        if (error) reject(new QueryFailedError(target.host, target.port, error.message, { cause: error }));
        else resolve();
      };
      socket.once('connect', () => done());
      socket.once('error', done);
      socket.setTimeout(timeoutMs + 1000, () => done(new Error('connect timeout')));
    }),
    target,
    timeoutMs,
  );

/**
 * The definition's health check: its game query when it has one (and then the status it
 * read), otherwise a TCP connect. Throws the same typed errors as queryGame.
 */
export const checkHealth = async (
  def: GameDefinition,
  target: QueryTarget,
): Promise<GameStatus | undefined> => {
  if (def.health.kind === 'gamedig') return queryGame(def, target);
  await tcpCheck(target, target.timeoutMs ?? def.health.timeoutMs);
  return undefined;
};
