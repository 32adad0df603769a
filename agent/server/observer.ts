import type { Logger } from '../../core/log.js';
import { queryGame } from '../games/index.js';
import { current } from '../installer/index.js';
import type { GameInstance } from './instance.js';

/** What STATUS reports about an instance beyond its process state; refreshed in the background. */
export interface Observation {
  readonly version?: string;
  readonly players?: number;
  readonly maxPlayers?: number;
  readonly map?: string;
  readonly observedAt: string;
}

const QUERY_TIMEOUT_MS = 1000;

/**
 * Keeps each instance's installed version and its players/map (from the game's own query) in
 * memory, so STATUS answers at once and never waits on a game query. A query that fails simply
 * leaves the player fields out: the monitor then keeps what it knew, rather than inventing zero.
 */
export class InstanceObserver {
  readonly #instances: readonly GameInstance[];
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #latest = new Map<string, Observation>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(instances: readonly GameInstance[], options: { intervalMs: number; logger: Logger }) {
    this.#instances = instances;
    this.#intervalMs = options.intervalMs;
    this.#logger = options.logger;
  }

  of(name: string): Observation | undefined {
    return this.#latest.get(name);
  }

  start(): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
  }

  /** One sweep over every instance; overlapping calls share the sweep in progress. */
  refresh(): Promise<void> {
    this.#sweeping ??= Promise.all(this.#instances.map((instance) => this.#observe(instance)))
      .then(() => undefined)
      .finally(() => {
        this.#sweeping = undefined;
      });
    return this.#sweeping;
  }

  async #observe(instance: GameInstance): Promise<void> {
    const version = await current(instance.dir).catch(() => undefined);
    let query: { players?: number; maxPlayers?: number; map?: string } = {};
    if (instance.def && instance.supervisor.status().state === 'running') {
      try {
        const status = await queryGame(instance.def, {
          ...instance.queryTarget(),
          timeoutMs: QUERY_TIMEOUT_MS,
        });
        query = { players: status.players, maxPlayers: status.maxPlayers, map: status.map };
      } catch (error) {
        this.#logger.debug({ instance: instance.name, err: error }, 'status query got no answer');
      }
    }
    this.#latest.set(instance.name, { version, ...query, observedAt: new Date().toISOString() });
  }
}
