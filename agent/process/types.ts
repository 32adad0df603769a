import type { z } from 'zod';
import type { Logger } from '../../core/log.js';
import type { StopMethod as StopMethodSchema } from '../../core/model/index.js';
import type { RestartPolicy } from './crash.js';
import type { ExitInfo } from './game-process.js';
import type { LogPolicy } from './log-file.js';
import type { IdentityCheck } from './proc.js';

/** Lifecycle of one game server, as Wings names it. */
export const SERVER_STATES = {
  offline: 'offline',
  starting: 'starting',
  running: 'running',
  stopping: 'stopping',
} as const;
export type ServerState = (typeof SERVER_STATES)[keyof typeof SERVER_STATES];

/** A signal to the process group, or a line written to the game's console. */
export type StopMethod = z.infer<typeof StopMethodSchema>;

export interface SupervisorOptions {
  /** The instance name, for logs and errors. */
  readonly name: string;
  /** Holds `game.pid` and `console.log*`. */
  readonly runDir: string;
  readonly stop: StopMethod;
  readonly stopGraceMs: number;
  /** Game processes never run as root unless this is set (config `allowRoot: true`). */
  readonly allowRoot?: boolean;
  /** Run the game as this user (the agent must be root to switch). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** The whole environment the game gets, before the launch's own `env` (minimal by default). */
  readonly baseEnv?: Readonly<Record<string, string>>;
  readonly restart?: Partial<RestartPolicy>;
  readonly log?: Partial<LogPolicy>;
  /** How often an adopted process is checked for life. */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

export type SupervisorEvent =
  | { readonly type: 'state'; readonly state: ServerState }
  | { readonly type: 'exit'; readonly exit: ExitInfo; readonly expected: boolean }
  | { readonly type: 'restart-scheduled'; readonly delayMs: number; readonly attempt: number }
  | { readonly type: 'crash-loop'; readonly crashes: number }
  | { readonly type: 'log-rotated' };

export type AdoptResult =
  | { readonly adopted: true; readonly pid: number }
  | {
      readonly adopted: false;
      readonly reason: 'no-pid-file' | 'invalid-pid-file' | Exclude<IdentityCheck, 'same'>;
    };

export interface StopResult {
  readonly wasRunning: boolean;
  /** True when the grace period ran out and the group got SIGKILL. */
  readonly killed: boolean;
  readonly waitedMs: number;
  readonly exit?: ExitInfo;
}

export interface SupervisorStatus {
  readonly name: string;
  readonly state: ServerState;
  readonly pid?: number;
  readonly startedAt?: string;
  readonly uptimeMs?: number;
  readonly adopted: boolean;
  readonly restarts: number;
  readonly crashLoop: boolean;
  readonly nextRestartAt?: string;
  readonly lastExit?: ExitInfo;
  readonly logFile: string;
}
