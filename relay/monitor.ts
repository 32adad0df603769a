import type { Logger } from '../core/log.js';
import { type GameInstance, type Host, InstanceState } from '../core/model/index.js';
import type { Store } from '../core/store/types.js';
import type { MonitorSettings } from './config.js';
import { type SessionPool, sleep } from './sessions.js';

const PAGE_SIZE = 100;
/** Probes in flight at once, whatever the rate: a sweep of dead hosts must not pile up sockets. */
const MAX_PROBES_IN_FLIGHT = 64;

/** The agent's supervisor says offline/starting/running/stopping; the host record speaks InstanceState. */
const STATE_NAMES: Readonly<Record<string, GameInstance['state']>> = {
  offline: 'stopped',
  stopped: 'stopped',
  starting: 'starting',
  running: 'running',
  stopping: 'stopping',
  crashed: 'crashed',
  installing: 'installing',
};

const toState = (value: unknown): GameInstance['state'] => {
  if (typeof value !== 'string') return 'unknown';
  const mapped = STATE_NAMES[value];
  return mapped ?? (InstanceState.safeParse(value).success ? (value as GameInstance['state']) : 'unknown');
};

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
const str = (value: unknown, max: number): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value.slice(0, max) : undefined;

/**
 * Merges what an agent reports (STATUS_REPLY `instances`, keyed by name or as a list) into the
 * host's registered instances: the registration says which instances exist and on which port,
 * the agent says how they are. Fields the agent does not report keep their last known value.
 */
export const mergeInstances = (registered: readonly GameInstance[], reported: unknown): GameInstance[] => {
  const byName = new Map<string, Record<string, unknown>>();
  if (Array.isArray(reported)) {
    for (const item of reported) {
      if (item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string') {
        byName.set((item as { name: string }).name, item as Record<string, unknown>);
      }
    }
  } else if (reported && typeof reported === 'object') {
    for (const [name, item] of Object.entries(reported)) {
      if (item && typeof item === 'object') byName.set(name, item as Record<string, unknown>);
    }
  }
  return registered.map((instance) => {
    const report = byName.get(instance.name);
    if (!report) return instance;
    const query = (report.query && typeof report.query === 'object' ? report.query : {}) as Record<
      string,
      unknown
    >;
    const version = str(report.version, 64);
    const players = num(report.players ?? query.players);
    const maxPlayers = num(report.maxPlayers ?? query.maxPlayers);
    const map = str(report.map ?? query.map, 100);
    return {
      ...instance,
      state: toState(report.state),
      ...(version !== undefined ? { version } : {}),
      ...(players !== undefined ? { players } : {}),
      ...(maxPlayers !== undefined ? { maxPlayers } : {}),
      ...(map !== undefined ? { map } : {}),
    };
  });
};

export interface MonitorDeps {
  readonly store: Store;
  readonly pool: SessionPool;
  readonly logger: Logger;
}

/**
 * Sweeps every registered v2 host with STATUS at a bounded rate and writes what it learns
 * (online/offline, agent version, instances) with `hosts.observe`. It shares the relay's
 * sessions but never its job slots, so a sweep over a dead fleet cannot delay a fan-out.
 */
export class HostMonitor {
  readonly #settings: MonitorSettings;
  readonly #deps: MonitorDeps;
  readonly #misses = new Map<string, number>();
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #sweeps = 0;

  constructor(settings: MonitorSettings, deps: MonitorDeps) {
    this.#settings = settings;
    this.#deps = deps;
  }

  get sweeps(): number {
    return this.#sweeps;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await this.sweep(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#deps.logger.warn({ err: error }, 'host sweep failed; trying again next interval');
      }
      await sleep(Math.max(0, started + this.#settings.intervalMs - Date.now()), signal).catch(
        () => undefined,
      );
    }
  }

  /** One pass over every host, `ratePerSec` probes a second at most. */
  async sweep(signal: AbortSignal = this.#stop.signal): Promise<void> {
    const gapMs = 1000 / this.#settings.ratePerSec;
    const probes = new Set<Promise<void>>();
    let nextAt = Date.now();
    let cursor: string | undefined;
    do {
      const page = await this.#deps.store.hosts.list({ limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) });
      for (const host of page.items) {
        if (signal.aborted) return;
        if (host.protocol !== 'v2') continue;
        const wait = nextAt - Date.now();
        if (wait > 0) await sleep(wait, signal).catch(() => undefined);
        nextAt = Math.max(Date.now(), nextAt) + gapMs;
        while (probes.size >= MAX_PROBES_IN_FLIGHT) await Promise.race(probes);
        const probe = this.#probe(host, signal).finally(() => probes.delete(probe));
        probes.add(probe);
      }
      cursor = page.next ?? undefined;
    } while (cursor && !signal.aborted);
    await Promise.all(probes);
    this.#sweeps += 1;
  }

  async #probe(host: Host, signal: AbortSignal): Promise<void> {
    const { pool, store, logger } = this.#deps;
    const timeoutMs = this.#settings.probeTimeoutMs;
    let status: Record<string, unknown>;
    try {
      const probeSignal = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      const connection = await pool.acquire(host, probeSignal);
      try {
        status = await connection.status(timeoutMs);
      } catch (error) {
        pool.discard(host.id, connection);
        throw error;
      }
    } catch (error) {
      if (signal.aborted) return;
      const misses = (this.#misses.get(host.id) ?? 0) + 1;
      this.#misses.set(host.id, misses);
      if (misses >= this.#settings.missesBeforeOffline && host.status !== 'offline') {
        logger.info({ hostId: host.id, misses, reason: (error as Error).message }, 'host offline');
        // observe() takes only newer observations: just past the last one keeps `lastSeen` meaning "last heard from".
        const lastSeen = host.lastSeen
          ? new Date(Date.parse(host.lastSeen) + 1).toISOString()
          : new Date().toISOString();
        await store.hosts.observe(host.id, { status: 'offline', lastSeen }).catch((writeError: unknown) => {
          logger.warn({ err: writeError, hostId: host.id }, 'could not write the host offline');
        });
      }
      return;
    }
    this.#misses.delete(host.id);
    const agentVersion = str(status.agentVersion, 64);
    try {
      await store.hosts.observe(host.id, {
        status: 'online',
        lastSeen: new Date().toISOString(),
        ...(agentVersion ? { agentVersion } : {}),
        instances: mergeInstances(host.instances, status.instances),
      });
    } catch (error) {
      logger.warn({ err: error, hostId: host.id }, 'could not record the host status');
    }
  }
}
