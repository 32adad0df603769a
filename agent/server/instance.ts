import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import type { AgentInstance } from '../config.js';
import {
  type GameCatalog,
  type GameDefinition,
  getGame,
  type InstanceSpec,
  queryTargetOf,
  renderArgs,
} from '../games/index.js';
import { type LaunchSpecInput, Supervisor } from '../process/index.js';
import { AgentError, BusyError } from './errors.js';

/**
 * One game-server instance on this host: its folder (`<dataDir>/instances/<name>/` holding
 * `releases/`, `current`, `previous` and `run/`), its supervisor and its lock. An instance whose
 * game is not in the definitions is kept (so the agent still serves the others) but every
 * action on it is refused with E_UNKNOWN_GAME.
 */
export class GameInstance {
  readonly name: string;
  readonly spec: InstanceSpec;
  readonly dir: string;
  readonly def: GameDefinition | undefined;
  readonly supervisor: Supervisor;
  readonly healthTimeoutMs: number;
  readonly #gameError: Error | undefined;
  #busy: { jobId: string; action: string } | undefined;

  constructor(
    config: AgentInstance,
    options: {
      /** The agent's definitions (built-ins plus its config's `games`); the built-ins otherwise. */
      games?: GameCatalog;
      dataDir: string;
      allowRoot: boolean;
      healthTimeoutSec: number;
      logger: Logger;
    },
  ) {
    this.name = config.name;
    this.dir = join(options.dataDir, 'instances', config.name);
    let def: GameDefinition | undefined;
    try {
      def = options.games ? options.games.get(config.game) : getGame(config.game);
    } catch (error) {
      this.#gameError = error as Error;
    }
    this.def = def;
    // The demo game (and any game with {control}) reads a per-instance file; default it inside the instance.
    const usesControl = def?.args.some((arg) => arg.includes('{control}')) ?? false;
    this.spec = {
      ...config,
      control: config.control ?? (usesControl ? join(this.dir, 'control.json') : undefined),
    };
    this.healthTimeoutMs = (config.healthTimeoutSec ?? options.healthTimeoutSec) * 1000;
    this.supervisor = new Supervisor({
      name: config.name,
      runDir: join(this.dir, 'run'),
      stop: def?.stop ?? { kind: 'signal', signal: 'SIGTERM' },
      stopGraceMs: def?.stopGraceMs ?? 10_000,
      allowRoot: options.allowRoot,
      logger: options.logger,
    });
  }

  /** The definition, or the reason there is none. */
  game(): GameDefinition {
    if (!this.def) throw this.#gameError ?? new AgentError('E_UNKNOWN_GAME', `no game for '${this.name}'`);
    return this.def;
  }

  get busyWith(): { jobId: string; action: string } | undefined {
    return this.#busy;
  }

  /**
   * One mutating action at a time per instance. A second one is refused at once with E_BUSY
   * rather than queued: the relay sees why and retries, and a queued stop can never fire long
   * after the operator stopped caring.
   */
  async exclusive<T>(job: { jobId: string; action: string }, fn: () => Promise<T>): Promise<T> {
    if (this.#busy) throw new BusyError(this.name, this.#busy.jobId, this.#busy.action);
    this.#busy = job;
    try {
      return await fn();
    } finally {
      this.#busy = undefined;
    }
  }

  /** argv for spawn, run in `current`, so a crash restart runs whatever version is current. */
  launch(): LaunchSpecInput {
    const def = this.game();
    return { executable: def.executable, args: renderArgs(def, this.spec), cwd: join(this.dir, 'current') };
  }

  queryTarget(): { host: string; port: number } {
    return queryTargetOf(this.game(), this.spec);
  }
}
