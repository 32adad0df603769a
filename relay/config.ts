import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { type ServiceConfig, serviceConfigFromEnv } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { TlsClientOptions } from '../protocol/index.js';

/**
 * `gsm relay` is configured from the environment only (it runs as an ECS task or a local
 * process): the CDK stack sets GSM_RELAY_ACTIVITY_ARN and GSM_AGENT_MASTER_SECRET, everything
 * else has a default. This is the only file of the relay that reads `process.env`.
 */
const Int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const Bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const Env = z.object({
  GSM_RELAY_ACTIVITY_ARN: z.string().min(1, 'GSM_RELAY_ACTIVITY_ARN (the relay activity ARN) is required'),
  GSM_AGENT_MASTER_SECRET: z.string().min(16, 'GSM_AGENT_MASTER_SECRET must be at least 16 bytes'),
  GSM_RELAY_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,79}$/, 'a relay id is 1-80 of [A-Za-z0-9._:@-]')
    .optional(),
  GSM_RELAY_POLLERS: Int(1, 64).default(2),
  GSM_RELAY_MAX_TASKS: Int(1, 256).default(16),
  GSM_RELAY_MAX_IN_FLIGHT: Int(1, 10_000).default(1000),
  GSM_RELAY_DYNAMODB_MAX_REQUESTS: Int(1, 1000).default(8),
  GSM_RELAY_HEARTBEAT_SEC: z.coerce.number().min(0.1).max(3600).default(20),
  GSM_RELAY_CONNECT_TIMEOUT_MS: Int(100, 120_000).default(5000),
  GSM_RELAY_SHUTDOWN_GRACE_SEC: z.coerce.number().min(0).max(3600).default(90),
  GSM_RELAY_MONITOR: Bool.default(true),
  GSM_RELAY_MONITOR_INTERVAL_SEC: z.coerce.number().min(0.1).max(86_400).default(30),
  GSM_RELAY_MONITOR_RATE: z.coerce.number().min(0.1).max(10_000).default(50),
  GSM_RELAY_MONITOR_MISSES: Int(1, 100).default(3),
  GSM_AGENT_TLS_CA_FILE: z.string().min(1).optional(),
  GSM_AGENT_TLS_FINGERPRINT: z.string().min(1).optional(),
});

export interface MonitorSettings {
  readonly enabled: boolean;
  /** A full sweep of the registered hosts starts this often (or when the last one ends, if later). */
  readonly intervalMs: number;
  /** STATUS probes started per second, at most: a big fleet is swept smoothly, not in a burst. */
  readonly ratePerSec: number;
  /** Consecutive failed probes before a host is written offline. */
  readonly missesBeforeOffline: number;
  readonly probeTimeoutMs: number;
}

export interface RelayConfig {
  readonly relayId: string;
  readonly activityArn: string;
  /** Each host's secret is derived from it (`deriveAgentSecret(master, hostId)`). */
  readonly masterSecret: string;
  /** Concurrent GetActivityTask long polls. */
  readonly pollers: number;
  /** Shards (activity tasks) this relay runs at once; a poller waits for a free slot before polling. */
  readonly maxTasks: number;
  /** Host jobs in flight across every shard (the global semaphore). */
  readonly maxInFlight: number;
  /**
   * DynamoDB requests in flight at once. Concurrent job writes beyond it wait and go out as
   * bigger batches (transactions where DynamoDB has them), and a fan-out never holds more than
   * this many requests in a single-threaded local DynamoDB's queue, ahead of the API's reads.
   */
  readonly dynamoDbMaxRequests: number;
  readonly heartbeatMs: number;
  readonly connectTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly monitor: MonitorSettings;
  readonly tls?: TlsClientOptions;
  readonly service: ServiceConfig;
}

export type RelayConfigInput = Partial<Omit<RelayConfig, 'monitor' | 'service'>> &
  Pick<RelayConfig, 'activityArn' | 'masterSecret'> & {
    readonly monitor?: Partial<MonitorSettings>;
    readonly service?: ServiceConfig;
  };

export const defaultRelayId = (): string =>
  `${
    hostname()
      .replace(/[^A-Za-z0-9._:@-]/g, '-')
      .slice(0, 60) || 'relay'
  }-${process.pid}`;

/** Fills defaults for a programmatic relay (`gsm dev`, tests) the way the environment does. */
export const relayConfig = (input: RelayConfigInput): RelayConfig => ({
  relayId: input.relayId ?? defaultRelayId(),
  activityArn: input.activityArn,
  masterSecret: input.masterSecret,
  pollers: input.pollers ?? 2,
  maxTasks: input.maxTasks ?? 16,
  maxInFlight: input.maxInFlight ?? 1000,
  dynamoDbMaxRequests: input.dynamoDbMaxRequests ?? 8,
  heartbeatMs: input.heartbeatMs ?? 20_000,
  connectTimeoutMs: input.connectTimeoutMs ?? 5000,
  shutdownGraceMs: input.shutdownGraceMs ?? 90_000,
  monitor: {
    enabled: input.monitor?.enabled ?? true,
    intervalMs: input.monitor?.intervalMs ?? 30_000,
    ratePerSec: input.monitor?.ratePerSec ?? 50,
    missesBeforeOffline: input.monitor?.missesBeforeOffline ?? 3,
    probeTimeoutMs: input.monitor?.probeTimeoutMs ?? 5000,
  },
  ...(input.tls ? { tls: input.tls } : {}),
  service: input.service ?? serviceConfigFromEnv({}),
});

export const relayConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): RelayConfig => {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`bad relay environment: ${detail}`);
  }
  const e = parsed.data;
  let tls: TlsClientOptions | undefined;
  if (e.GSM_AGENT_TLS_CA_FILE || e.GSM_AGENT_TLS_FINGERPRINT) {
    let ca: string | undefined;
    if (e.GSM_AGENT_TLS_CA_FILE) {
      try {
        ca = readFileSync(e.GSM_AGENT_TLS_CA_FILE, 'utf8');
      } catch (cause) {
        throw new ConfigError(`cannot read GSM_AGENT_TLS_CA_FILE: ${(cause as Error).message}`, { cause });
      }
    }
    tls = {
      ...(ca ? { ca } : {}),
      ...(e.GSM_AGENT_TLS_FINGERPRINT ? { fingerprint256: e.GSM_AGENT_TLS_FINGERPRINT } : {}),
    };
  }
  return relayConfig({
    relayId: e.GSM_RELAY_ID,
    activityArn: e.GSM_RELAY_ACTIVITY_ARN,
    masterSecret: e.GSM_AGENT_MASTER_SECRET,
    pollers: e.GSM_RELAY_POLLERS,
    maxTasks: e.GSM_RELAY_MAX_TASKS,
    maxInFlight: e.GSM_RELAY_MAX_IN_FLIGHT,
    dynamoDbMaxRequests: e.GSM_RELAY_DYNAMODB_MAX_REQUESTS,
    heartbeatMs: e.GSM_RELAY_HEARTBEAT_SEC * 1000,
    connectTimeoutMs: e.GSM_RELAY_CONNECT_TIMEOUT_MS,
    shutdownGraceMs: e.GSM_RELAY_SHUTDOWN_GRACE_SEC * 1000,
    monitor: {
      enabled: e.GSM_RELAY_MONITOR,
      intervalMs: e.GSM_RELAY_MONITOR_INTERVAL_SEC * 1000,
      ratePerSec: e.GSM_RELAY_MONITOR_RATE,
      missesBeforeOffline: e.GSM_RELAY_MONITOR_MISSES,
    },
    ...(tls ? { tls } : {}),
    service: serviceConfigFromEnv(env),
  });
};
