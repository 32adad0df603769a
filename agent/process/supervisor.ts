import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createLogger, type Logger } from '../../core/log.js';
import { CrashTracker, DEFAULT_RESTART_POLICY, type RestartPolicy } from './crash.js';
import { AlreadyRunningError, RunAsRootError, SpawnFailedError } from './errors.js';
import { type ExitInfo, GameProcess } from './game-process.js';
import { DEFAULT_LOG_POLICY, type LogPolicy, LogWatcher, openConsoleLog } from './log-file.js';
import { LaunchSpec, type LaunchSpecInput, readPidFile, removePidFile, writePidFile } from './pid-file.js';
import { checkIdentity, signalGroup } from './proc.js';
import {
  type AdoptResult,
  SERVER_STATES,
  type ServerState,
  type StopMethod,
  type StopResult,
  type SupervisorEvent,
  type SupervisorOptions,
  type SupervisorStatus,
} from './types.js';

/** The system PATH given to games; the agent's own Node directory is put first by default. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Supervises one game server: start, graceful stop, crash restart with backoff, adoption
 * after an agent restart. Start, stop, restart and adopt are serialized (one lock per
 * server); `kill` goes straight through.
 */
export class Supervisor {
  readonly pidFile: string;
  readonly logFile: string;
  private readonly restartPolicy: RestartPolicy;
  private readonly logPolicy: LogPolicy;
  private readonly logger: Logger;
  private readonly listeners = new Set<(event: SupervisorEvent) => void>();
  private lock: Promise<unknown> = Promise.resolve();
  private current: { proc: GameProcess; handled: Promise<void>; watcher: LogWatcher } | undefined;
  private stateValue: ServerState = SERVER_STATES.offline;
  private launch: LaunchSpec | undefined;
  private stopRequested = false;
  private readonly crashes: CrashTracker;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextRestartAt: number | undefined;
  private lastExit: ExitInfo | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.pidFile = join(options.runDir, 'game.pid');
    this.logFile = join(options.runDir, 'console.log');
    this.restartPolicy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    this.crashes = new CrashTracker(this.restartPolicy);
    this.logPolicy = { ...DEFAULT_LOG_POLICY, ...options.log };
    this.logger = (options.logger ?? createLogger('agent')).child({ instance: options.name });
  }

  get state(): ServerState {
    return this.stateValue;
  }

  get pid(): number | undefined {
    return this.current?.proc.running ? this.current.proc.pid : undefined;
  }

  onEvent(listener: (event: SupervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): SupervisorStatus {
    const proc = this.current?.proc;
    return {
      name: this.options.name,
      state: this.stateValue,
      pid: proc?.pid,
      startedAt: proc ? new Date(proc.startedAt).toISOString() : undefined,
      uptimeMs: proc ? Date.now() - proc.startedAt : undefined,
      adopted: proc?.adopted ?? false,
      restarts: this.restarts,
      crashLoop: this.crashes.crashLoop,
      nextRestartAt: this.nextRestartAt ? new Date(this.nextRestartAt).toISOString() : undefined,
      lastExit: this.lastExit,
      logFile: this.logFile,
    };
  }

  /** Starts the game server. An explicit start clears a crash loop. */
  start(launch: LaunchSpecInput): Promise<{ pid: number }> {
    return this.exclusive(async () => {
      if (this.current)
        throw new AlreadyRunningError(this.options.name, this.stateValue, this.current.proc.pid);
      this.refuseRoot();
      this.cancelRestart();
      this.crashes.reset();
      this.launch = LaunchSpec.parse(launch);
      return this.spawn(this.launch);
    });
  }

  /**
   * Stops the game server: the definition's stop method (a signal to the process group, or a
   * console command when the game is our child with a console; SIGTERM otherwise), then
   * SIGKILL to the group once the grace period is over. Cancels a pending crash restart.
   */
  stop(options: { graceMs?: number; method?: StopMethod } = {}): Promise<StopResult> {
    return this.exclusive(() => this.stopNow(options));
  }

  restart(launch?: LaunchSpecInput): Promise<{ pid: number }> {
    return this.exclusive(async () => {
      await this.stopNow({});
      const next = launch ? LaunchSpec.parse(launch) : this.launch;
      if (!next) throw new SpawnFailedError(this.options.name, '(nothing launched before)');
      this.refuseRoot();
      this.launch = next;
      this.crashes.reset();
      return this.spawn(next);
    });
  }

  /** SIGKILL to the whole group at once, without the lock or a grace period. */
  kill(): boolean {
    this.cancelRestart();
    const current = this.current;
    if (!current) return false;
    this.stopRequested = true;
    this.setState(SERVER_STATES.stopping);
    return current.proc.signal('SIGKILL');
  }

  /**
   * After an agent restart: re-attaches to the game server named in the pid file when that
   * very process (same pid, start time and boot) still runs. A stale pid file is removed.
   */
  adopt(): Promise<AdoptResult> {
    return this.exclusive(async () => {
      if (this.current) return { adopted: true, pid: this.current.proc.pid } as const;
      const read = await readPidFile(this.pidFile);
      if (read.kind === 'missing') return { adopted: false, reason: 'no-pid-file' } as const;
      if (read.kind === 'invalid') {
        this.logger.warn({ reason: read.reason }, 'ignoring a pid file that cannot be read');
        await removePidFile(this.pidFile);
        return { adopted: false, reason: 'invalid-pid-file' } as const;
      }
      const { record } = read;
      this.launch = record.launch;
      const check = await checkIdentity(record);
      if (check !== 'same') {
        this.logger.info({ pid: record.pid, check }, 'pid file names no running game server; not adopted');
        await removePidFile(this.pidFile);
        return { adopted: false, reason: check } as const;
      }
      const proc = GameProcess.adopt(
        record,
        Date.parse(record.startedAt),
        this.options.pollIntervalMs ?? 1000,
      );
      this.attach(proc);
      this.logger.info({ pid: record.pid }, 'adopted running game server');
      return { adopted: true, pid: record.pid } as const;
    });
  }

  /**
   * Lets go of the game server without stopping it (agent shutdown or upgrade): timers stop,
   * the pid file stays, and the next agent adopts it.
   */
  detach(): void {
    this.cancelRestart();
    const current = this.current;
    if (!current) return;
    current.watcher.stop();
    current.proc.detach();
    this.current = undefined;
    this.stateValue = SERVER_STATES.offline;
  }

  /** Writes a line to the game's console; false when the game is adopted or not running. */
  sendConsole(line: string): boolean {
    if (/[\r\n\0]/.test(line)) return false;
    return this.current?.proc.writeConsole(line) ?? false;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  private emit(event: SupervisorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, 'supervisor event listener failed');
      }
    }
  }

  private setState(state: ServerState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit({ type: 'state', state });
  }

  private refuseRoot(): void {
    const uid = this.options.user?.uid ?? process.getuid?.();
    if (uid === 0 && !this.options.allowRoot) throw new RunAsRootError(this.options.name);
  }

  private environment(launch: LaunchSpec): Record<string, string> {
    const base = this.options.baseEnv ?? {
      PATH: `${dirname(process.execPath)}:${SYSTEM_PATH}`,
      LANG: 'C.UTF-8',
      // Not the release folder: games keep state under $HOME, and old releases get deleted.
      HOME: dirname(this.options.runDir),
    };
    return { ...base, ...launch.env };
  }

  private async spawn(launch: LaunchSpec): Promise<{ pid: number }> {
    this.stopRequested = false;
    this.setState(SERVER_STATES.starting);
    let proc: GameProcess;
    try {
      await mkdir(this.options.runDir, { recursive: true, mode: 0o750 });
      const banner = `---- gsm: starting ${this.options.name} at ${new Date().toISOString()}: ${launch.executable} ${launch.args.join(' ')}`;
      const logFd = await openConsoleLog(this.logFile, this.logPolicy, banner);
      proc = await GameProcess.spawn({
        ...launch,
        env: this.environment(launch),
        logFd,
        uid: this.options.user?.uid,
        gid: this.options.user?.gid,
      });
    } catch (error) {
      this.setState(SERVER_STATES.offline);
      throw new SpawnFailedError(this.options.name, launch.executable, { cause: error });
    }
    await writePidFile(this.pidFile, {
      ...proc.identity,
      startedAt: new Date(proc.startedAt).toISOString(),
      launch,
      logFile: this.logFile,
    });
    this.attach(proc);
    this.logger.info({ pid: proc.pid, cwd: launch.cwd }, 'game server started');
    return { pid: proc.pid };
  }

  private attach(proc: GameProcess): void {
    const watcher = new LogWatcher(this.logFile, this.logPolicy, (error) => {
      if (error) this.logger.warn({ err: error }, 'console log rotation failed');
      else this.emit({ type: 'log-rotated' });
    });
    watcher.start();
    const handled = proc.exited.then((exit) => this.onExit(proc, exit));
    this.current = { proc, handled, watcher };
    this.setState(SERVER_STATES.running);
  }

  private async onExit(proc: GameProcess, exit: ExitInfo): Promise<void> {
    if (this.current?.proc !== proc) return;
    this.current.watcher.stop();
    this.current = undefined;
    this.lastExit = exit;
    await removePidFile(this.pidFile);
    const expected = this.stopRequested;
    this.emit({ type: 'exit', exit, expected });
    this.setState(SERVER_STATES.offline);
    if (expected) return;
    const clean = exit.code === 0 && !exit.adopted;
    this.logger.warn(
      { pid: proc.pid, code: exit.code, signal: exit.signal },
      'game server exited on its own',
    );
    if (!this.restartPolicy.enabled || (clean && !this.restartPolicy.restartOnCleanExit)) return;
    this.scheduleRestart(exit.at - proc.startedAt);
  }

  private scheduleRestart(ranForMs: number): void {
    const decision = this.crashes.record(ranForMs);
    if (!decision.restart) {
      this.logger.error({ crashes: decision.crashes }, 'crashing too frequently; not restarting');
      this.emit({ type: 'crash-loop', crashes: decision.crashes });
      return;
    }
    const { delayMs, attempt } = decision;
    this.nextRestartAt = Date.now() + delayMs;
    this.emit({ type: 'restart-scheduled', delayMs, attempt });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.nextRestartAt = undefined;
      void this.exclusive(async () => {
        if (this.current || this.stopRequested || !this.launch) return;
        try {
          // The config may have changed since an adopted server was started.
          this.refuseRoot();
        } catch (error) {
          this.logger.error({ err: error }, 'not restarting the crashed game server');
          return;
        }
        this.restarts++;
        try {
          await this.spawn(this.launch);
        } catch (error) {
          this.logger.error({ err: error }, 'crash restart failed');
          this.scheduleRestart(0);
        }
      });
    }, delayMs);
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.nextRestartAt = undefined;
  }

  private async stopNow(options: { graceMs?: number; method?: StopMethod }): Promise<StopResult> {
    this.cancelRestart();
    const current = this.current;
    if (!current) {
      this.stopRequested = true;
      return { wasRunning: false, killed: false, waitedMs: 0 };
    }
    const { proc, handled } = current;
    const graceMs = options.graceMs ?? this.options.stopGraceMs;
    const method = options.method ?? this.options.stop;
    const started = Date.now();
    this.stopRequested = true;
    this.setState(SERVER_STATES.stopping);
    const sent = method.kind === 'command' && proc.hasConsole && proc.writeConsole(method.command);
    if (!sent) proc.signal(method.kind === 'signal' ? method.signal : 'SIGTERM');
    let killed = false;
    if (!(await settlesWithin(handled, graceMs))) {
      killed = true;
      this.logger.warn({ pid: proc.pid, graceMs }, 'grace period over; killing the process group');
      proc.signal('SIGKILL');
      await handled;
    }
    // Anything the game left behind in its group goes with it. Only for our own child: its exit
    // is seen at once, while an adopted one is polled and its pid could be reused meanwhile.
    if (!proc.adopted) signalGroup(proc.pid, 'SIGKILL');
    return { wasRunning: true, killed, waitedMs: Date.now() - started, exit: this.lastExit };
  }
}

const settlesWithin = (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
