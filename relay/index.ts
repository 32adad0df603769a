export {
  type MonitorSettings,
  type RelayConfig,
  type RelayConfigInput,
  relayConfig,
  relayConfigFromEnv,
} from './config.js';
export {
  INVALID_INPUT_ERROR,
  RELAY_ERROR_CODES,
  RELAY_FAILED_ERROR,
  RelayError,
} from './errors.js';
export { HostMonitor, mergeInstances } from './monitor.js';
export { type CloseOptions, type Relay, type RelayDeps, startRelay } from './relay.js';
