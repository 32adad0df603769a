import { sleepUnlessAborted } from '../../core/sleep.js';
import type { GameDefinition } from '../games/definitions.js';
import { isGameError } from '../games/errors.js';
import { type GameStatus, type QueryTarget, queryGame } from '../games/query.js';

export interface DrainOptions {
  /** Time between polls. */
  readonly intervalMs: number;
  /** Give up waiting after this long; the stop goes ahead with players still on. */
  readonly timeoutMs: number;
  /** Per-query timeout; defaults to the definition's. */
  readonly queryTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called after every poll, e.g. to send PROGRESS frames. */
  readonly onPoll?: (poll: { players: number | undefined; waitedMs: number; error?: unknown }) => void;
  /** How players are read; defaults to the definition's game query. */
  readonly query?: (def: GameDefinition, target: QueryTarget) => Promise<Pick<GameStatus, 'players'>>;
}

export interface DrainResult {
  /** True when the server reported no players before the timeout. */
  readonly drained: boolean;
  /** Players at the last successful poll; undefined when no poll succeeded. */
  readonly players: number | undefined;
  readonly waitedMs: number;
  readonly polls: number;
  /** True when the signal stopped the wait (a CANCEL): the caller should not stop the server. */
  readonly aborted: boolean;
  /** The last query failure, when the last poll failed. */
  readonly lastError?: unknown;
  /**
   * True when the game has no query that counts players (a `tcp` health check): the drain ended
   * at once, since waiting could never learn more.
   */
  readonly unsupported?: boolean;
}

/**
 * Before a stop: polls the server's player count through its query protocol until it reaches
 * zero or the drain timeout passes. A failed query does not count as empty (a server that
 * stopped answering may still hold players); polling goes on until the timeout. A game whose
 * definition has no player query ends the drain at once (`unsupported`): waiting out the whole
 * timeout, 300 s by default, on every host of a release would tell nobody anything. Never throws
 * for query failures; an aborted drain resolves with `aborted: true`.
 */
export const drainPlayers = async (
  def: GameDefinition,
  target: QueryTarget,
  options: DrainOptions,
): Promise<DrainResult> => {
  const query = options.query ?? queryGame;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let players: number | undefined;
  let lastError: unknown;
  let polls = 0;
  for (;;) {
    if (options.signal?.aborted) {
      return { drained: false, players, waitedMs: Date.now() - started, polls, aborted: true, lastError };
    }
    const remaining = deadline - Date.now();
    const timeoutMs = Math.max(100, Math.min(options.queryTimeoutMs ?? def.health.timeoutMs, remaining));
    try {
      players = (await query(def, { host: target.host, port: target.port, timeoutMs })).players;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    polls++;
    const waitedMs = Date.now() - started;
    if (isGameError(lastError, 'E_QUERY_UNSUPPORTED')) {
      return { drained: false, players, waitedMs, polls, aborted: false, lastError, unsupported: true };
    }
    options.onPoll?.({ players, waitedMs, error: lastError });
    if (lastError === undefined && players === 0) {
      return { drained: true, players, waitedMs, polls, aborted: false };
    }
    if (Date.now() >= deadline) {
      return { drained: false, players, waitedMs, polls, aborted: false, lastError };
    }
    await sleepUnlessAborted(Math.min(options.intervalMs, deadline - Date.now()), options.signal);
  }
};
