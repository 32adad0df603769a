import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Logger } from '../core/log.js';
import type { Store } from '../core/store/types.js';
import type { RelayConfig } from './config.js';
import { HostCache } from './host-cache.js';
import { HostMonitor } from './monitor.js';
import { Semaphore } from './semaphore.js';
import { SessionPool } from './sessions.js';
import { ActivityWorker } from './worker.js';

export interface RelayDeps {
  readonly store: Store;
  readonly sfn: SFNClient;
  readonly logger: Logger;
}

export interface CloseOptions {
  /** How long running shards may take to finish; the config's shutdownGraceMs otherwise. */
  readonly graceMs?: number;
  /**
   * Drop everything without telling Step Functions (no SendTask*, no more heartbeats): what a
   * crash looks like from outside. Tests use it; the workflow's retry re-runs the shard.
   */
  readonly abandon?: boolean;
}

export interface Relay {
  readonly relayId: string;
  readonly monitor: HostMonitor;
  /** Shards running now. */
  running(): number;
  /** Stops polling, lets running shards finish within the grace, hands the rest back, closes sessions. */
  close(options?: CloseOptions): Promise<void>;
}

const IDLE_SWEEP_MS = 60_000;

/** Starts a relay in this process: the activity pollers, the fan-out and (unless disabled) the host monitor. */
export const startRelay = async (config: RelayConfig, deps: RelayDeps): Promise<Relay> => {
  const logger = deps.logger.child({ relayId: config.relayId });
  const pool = new SessionPool({
    relayId: config.relayId,
    masterSecret: config.masterSecret,
    connectTimeoutMs: config.connectTimeoutMs,
    logger,
    ...(config.tls ? { tls: config.tls } : {}),
  });
  const worker = new ActivityWorker(
    {
      activityArn: config.activityArn,
      relayId: config.relayId,
      pollers: config.pollers,
      maxTasks: config.maxTasks,
      heartbeatMs: config.heartbeatMs,
    },
    {
      store: deps.store,
      sfn: deps.sfn,
      pool,
      logger,
      relayId: config.relayId,
      inFlight: new Semaphore(config.maxInFlight),
      hosts: new HostCache(deps.store),
    },
  );
  const monitor = new HostMonitor(config.monitor, {
    store: deps.store,
    pool,
    logger: logger.child({ component: 'monitor' }),
  });
  worker.start();
  if (config.monitor.enabled) monitor.start();
  const idle = setInterval(() => pool.sweepIdle(), IDLE_SWEEP_MS);
  idle.unref();
  logger.info(
    {
      activityArn: config.activityArn,
      pollers: config.pollers,
      maxTasks: config.maxTasks,
      maxInFlight: config.maxInFlight,
    },
    'relay started',
  );

  let closing: Promise<void> | undefined;
  return {
    relayId: config.relayId,
    monitor,
    running: () => worker.running,
    close: (options = {}) => {
      closing ??= (async () => {
        clearInterval(idle);
        await Promise.all([
          worker.drain(options.graceMs ?? config.shutdownGraceMs, options.abandon),
          monitor.close(),
        ]);
        await pool.close();
        logger.info('relay stopped');
      })();
      return closing;
    },
  };
};
