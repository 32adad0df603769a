export { CrashTracker, DEFAULT_RESTART_POLICY, type RestartPolicy } from './crash.js';
export * from './errors.js';
export type { ExitInfo } from './game-process.js';
export { DEFAULT_LOG_POLICY, type LogPolicy, tailLog } from './log-file.js';
export { LaunchSpec, type LaunchSpecInput, type PidRecord, readPidFile } from './pid-file.js';
export { Supervisor } from './supervisor.js';
export {
  type AdoptResult,
  SERVER_STATES,
  type ServerState,
  type StopMethod,
  type StopResult,
  type SupervisorEvent,
  type SupervisorOptions,
  type SupervisorStatus,
} from './types.js';
