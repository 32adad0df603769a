import { spawn } from 'node:child_process';
import { close } from 'node:fs';
import { checkIdentity, identify, type ProcessIdentity, signalGroup } from './proc.js';

export interface ExitInfo {
  /** Null when killed by a signal, and always for an adopted process (not our child). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly adopted: boolean;
  readonly at: number;
}

export interface SpawnOptions {
  readonly executable: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Inherited as the game's stdout and stderr; closed here once the game has it. */
  readonly logFd: number;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * One run of one game-server process: either our child (spawned here) or a process adopted
 * from a pid file after an agent restart. Either way it leads its own process group, so
 * signals reach everything it started.
 */
export class GameProcess {
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private pollTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly identity: ProcessIdentity,
    readonly adopted: boolean,
    readonly startedAt: number,
    private readonly stdin: NodeJS.WritableStream | undefined,
    private readonly release: () => void,
    exited: Promise<ExitInfo>,
  ) {
    this.exited = exited.then((info) => {
      this.exitInfo = info;
      return info;
    });
  }

  get pid(): number {
    return this.identity.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Starts the game without a shell, detached into its own process group. */
  static async spawn(options: SpawnOptions): Promise<GameProcess> {
    const child = spawn(options.executable, [...options.args], {
      cwd: options.cwd,
      env: { ...options.env },
      detached: true,
      shell: false,
      stdio: ['pipe', options.logFd, options.logFd],
      uid: options.uid,
      gid: options.gid,
      windowsHide: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } finally {
      close(options.logFd, () => {});
    }
    const pid = child.pid;
    if (pid === undefined) throw new Error('spawned process has no pid');
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, adopted: false, at: Date.now() }));
    });
    // The game outlives the pipe when the agent goes away; a write after that must not throw.
    child.stdin?.on('error', () => {});
    const identity = await identify(pid);
    const process = new GameProcess(
      identity ?? { pid, startTime: '0', bootId: '' },
      false,
      Date.now(),
      child.stdin ?? undefined,
      () => {
        child.stdin?.destroy();
        child.unref();
      },
      exited,
    );
    return process;
  }

  /**
   * Re-attaches to a process that is not our child. Its exit is noticed by polling /proc,
   * which also catches a pid recycled by another process.
   */
  static adopt(identity: ProcessIdentity, startedAt: number, pollIntervalMs: number): GameProcess {
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<ExitInfo>((resolve) => {
      timer = setInterval(async () => {
        if ((await checkIdentity(identity)) !== 'same') {
          clearInterval(timer);
          resolve({ code: null, signal: null, adopted: true, at: Date.now() });
        }
      }, pollIntervalMs);
    });
    const adopted = new GameProcess(identity, true, startedAt, undefined, () => clearInterval(timer), exited);
    adopted.pollTimer = timer;
    return adopted;
  }

  /** Signals the whole process group; false when it is already gone. */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running) return false;
    return signalGroup(this.pid, signal);
  }

  get hasConsole(): boolean {
    return this.stdin !== undefined && this.running;
  }

  /** Writes one line to the game's console (stdin); only possible for our own child. */
  writeConsole(line: string): boolean {
    if (!this.hasConsole || !this.stdin) return false;
    this.stdin.write(`${line}\n`);
    return true;
  }

  /** Lets go of the process without stopping it (agent shutdown): it keeps running. */
  detach(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.release();
  }
}
