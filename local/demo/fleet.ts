import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAgentConfig } from '../../agent/config.js';
import { type RunningAgent, startAgent } from '../../agent/main.js';
import { readPidFile } from '../../agent/process/index.js';
import { ConflictError, NotFoundError, StateConflictError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { HostInput, HostPatch } from '../../core/model/index.js';
import type { Store } from '../../core/store/types.js';
import { type LegacyAgent, startLegacyAgent } from '../../protocol/legacy-server.js';
import { buildDemoPackages, type DemoPackage } from '../demo-game/build.js';
import { freeUdpPort } from '../demo-game/harness.js';
import { runAgentJob } from './agent-job.js';
import { type ActionWorkflow, type InstallReport, type PackageRef, preinstallFleet } from './install.js';
import { type StaticOrigin, startStaticOrigin } from './origin.js';

export const DEMO_HOSTS = 12;
export const DEMO_FAULT_HOST = 'demo-07';
export const DEMO_ORIGIN_HOST = 'demo-origin';
export const DEMO_LEGACY_HOST = 'legacy-01';
export const DEMO_BASE_VERSION = '1.0.0';
export const DEMO_NEXT_VERSION = '1.1.0';

export interface DemoFleetOptions {
  readonly store: Store;
  /** Pre-installs through the action workflow when given; without it the hosts start empty. */
  readonly workflow?: ActionWorkflow;
  /** Agents' data, packages and the origin's web root; kept across restarts when it is. */
  readonly dataDir: string;
  readonly logger: Logger;
  /** Every demo agent's secret is derived from it, as the relay derives it. */
  readonly masterSecret: string;
  readonly hosts?: number;
  /**
   * Hosts tagged `fault=health`: on them every demo build from DEMO_NEXT_VERSION on never
   * answers its query (a host-side fault in the game's control file), so the very package that
   * is healthy everywhere else fails their health check. Default: demo-07 alone.
   */
  readonly faultyHosts?: readonly string[];
  /** Called once the pre-install has ended, whatever its outcome. */
  readonly onInstalled?: (report: InstallReport) => void;
}

export interface DemoHost {
  readonly id: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The agent's TCP port (the host record's port). */
  readonly port: number;
  /** The demo game's UDP query port. */
  readonly gamePort: number;
  /** The demo game's control file (players, map, the host-side fault). */
  readonly control: string;
  /** Is the agent serving? */
  running(): boolean;
  /** Stops the agent as a crash would look from outside: the game server keeps running. */
  stopAgent(): Promise<void>;
}

export interface DemoFleet {
  readonly hosts: readonly DemoHost[];
  readonly origin: { readonly id: string; readonly baseUrl: string };
  readonly legacy: { readonly id: string; readonly port: number; readonly agent: LegacyAgent };
  /** Settles when the pre-install has ended (at once without a workflow). */
  readonly installed: Promise<InstallReport>;
  close(): Promise<void>;
}

const pad = (n: number) => String(n).padStart(2, '0');

const asRef = (pkg: DemoPackage | undefined, url: (file: string) => string): PackageRef => {
  if (!pkg) throw new Error('demo package missing from the build');
  return { version: pkg.version, url: url(pkg.file), sha256: pkg.sha256, size: pkg.size };
};

/** Create, or bring a record left by an earlier run (`--data`) up to date. */
const upsertHost = async (store: Store, input: HostInput & { id: string }, patch: HostPatch) => {
  for (let attempt = 0; ; attempt += 1) {
    try {
      if (!(await store.hosts.find(input.id))) return await store.hosts.create(input);
      return await store.hosts.update(input.id, patch);
    } catch (error) {
      // The relay's monitor may write the same record meanwhile; a re-read settles it.
      const retry = error instanceof StateConflictError || error instanceof ConflictError;
      if (!retry || attempt >= 5) throw error;
    }
  }
};

/**
 * `gsm dev`'s demo fleet, all on 127.0.0.1 and in this process: a download origin serving the
 * demo game's builds (with an origin-role agent beside it), `hosts` real agents each with one
 * `demo` instance, its own data folder, journal, TCP port and UDP game port, and one legacy
 * agent. Hosts are registered in the store (ids `demo-01`…, tags `group=demo`, `region=eu|us`,
 * `fault=health` on the faulty ones); then demo 1.0.0 is pre-installed through the action workflow
 * and 1.1.0 pre-staged beside it, and 1.0.0 is started (through the action workflow too).
 */
export const startDemoFleet = async (options: DemoFleetOptions): Promise<DemoFleet> => {
  const { store, logger } = options;
  const count = options.hosts ?? DEMO_HOSTS;
  const faultyHosts = new Set(options.faultyHosts ?? [DEMO_FAULT_HOST]);
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.warn({ err }, 'demo stop failed'));
    stops.length = 0;
  };
  try {
    // The web root uses the layout the origin role publishes into (packages/<game>/<version>/),
    // so a package staged by a release lands beside the demo builds.
    const webRoot = join(options.dataDir, 'origin');
    const build = join(options.dataDir, 'build');
    await rm(build, { recursive: true, force: true });
    const healthy = await buildDemoPackages(join(build, 'healthy'), {
      formats: ['tar.gz'],
      faultyVersions: [],
    });
    const publish = async (pkg: DemoPackage, prefix: string) => {
      const dir = join(webRoot, prefix, 'demo', pkg.version);
      await mkdir(dir, { recursive: true });
      const name = `demo-${pkg.version}.tar.gz`;
      await rename(pkg.file, join(dir, name));
      return `${prefix}/demo/${pkg.version}/${name}`;
    };
    const paths = new Map<DemoPackage, string>();
    for (const pkg of healthy) paths.set(pkg, await publish(pkg, 'packages'));
    await rm(build, { recursive: true, force: true });

    const origin: StaticOrigin = await startStaticOrigin({ root: webRoot, logger });
    stops.push(() => origin.close());
    const urlOf = (pkg: DemoPackage | undefined) =>
      asRef(pkg, () => `${origin.baseUrl}/${pkg ? paths.get(pkg) : ''}`);
    const base = urlOf(healthy.find((p) => p.version === DEMO_BASE_VERSION));
    const next = urlOf(healthy.find((p) => p.version === DEMO_NEXT_VERSION));

    const agentConfig = (id: string, extra: Record<string, unknown>) =>
      parseAgentConfig(
        {
          hostId: id,
          listen: { host: '127.0.0.1', port: 0 },
          secrets: { master: options.masterSecret },
          dataDir: join(options.dataDir, 'agents', id),
          // gsm dev runs as whoever started it, root in some containers; the demo game is
          // harmless, so the agent's refusal to run games as root is lifted here only.
          allowRoot: true,
          healthTimeoutSec: 15,
          drain: { timeoutSec: 5, intervalMs: 500 },
          ...extra,
        },
        { env: {} },
      );

    const originAgent = await startAgent(
      await agentConfig(DEMO_ORIGIN_HOST, { role: 'origin', webRoot }),
      logger.child({ component: 'agent', hostId: DEMO_ORIGIN_HOST }),
    );
    stops.push(() => originAgent.close());
    await upsertHost(
      store,
      {
        id: DEMO_ORIGIN_HOST,
        address: '127.0.0.1',
        port: originAgent.port,
        role: 'origin',
        tags: { group: 'origin', region: 'eu' },
      },
      { address: '127.0.0.1', port: originAgent.port, role: 'origin' },
    );
    await store.origins.remove(DEMO_ORIGIN_HOST).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
    await store.origins.create({
      id: DEMO_ORIGIN_HOST,
      baseUrl: origin.baseUrl,
      hostId: DEMO_ORIGIN_HOST,
      region: 'eu',
    });

    const hosts: DemoHost[] = [];
    const agents = new Map<string, RunningAgent>();
    const pidFiles: string[] = [];
    stops.push(async () => {
      // gsm dev owns these game servers: none may outlive it (an agent alone leaves them running).
      await Promise.all(
        hosts.map(async (host) => {
          const running = agents.get(host.id);
          if (!running) return;
          await runAgentJob({
            port: host.port,
            hostId: host.id,
            masterSecret: options.masterSecret,
            action: 'stop',
            params: { graceSec: 3 },
            timeoutMs: 8000,
          }).catch(() => undefined);
          agents.delete(host.id);
          await running.close();
        }),
      );
      // Agents stopped earlier (or failing to stop their game) leave a pid file behind.
      for (const file of pidFiles) {
        const pid = await readPidFile(file).catch(() => undefined);
        if (pid?.kind !== 'ok') continue;
        try {
          process.kill(pid.record.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    });
    for (let i = 1; i <= count; i += 1) {
      const id = `demo-${pad(i)}`;
      const gamePort = await freeUdpPort();
      const control = join(options.dataDir, 'agents', `${id}.control.json`);
      await mkdir(join(options.dataDir, 'agents'), { recursive: true });
      // Rewritten each start: a fault list changed since an earlier run (`--data`) applies now.
      const fault = faultyHosts.has(id) ? { faultyFrom: DEMO_NEXT_VERSION } : {};
      await writeFile(control, `${JSON.stringify({ players: 0, ...fault })}\n`);
      const config = await agentConfig(id, {
        instances: [{ name: 'demo', game: 'demo', port: gamePort, host: '127.0.0.1', control }],
      });
      const agent = await startAgent(config, logger.child({ component: 'agent', hostId: id }));
      agents.set(id, agent);
      pidFiles.push(join(config.dataDir, 'instances', 'demo', 'run', 'game.pid'));
      const tags: Record<string, string> = {
        group: 'demo',
        region: i % 2 === 1 ? 'eu' : 'us',
        ...(faultyHosts.has(id) ? { fault: 'health' } : {}),
      };
      hosts.push({
        id,
        tags,
        port: agent.port,
        gamePort,
        control,
        running: () => agents.has(id),
        stopAgent: async () => {
          agents.delete(id);
          await agent.close();
        },
      });
      const instances = [{ name: 'demo', game: 'demo', port: gamePort, state: 'unknown' as const }];
      await upsertHost(
        store,
        { id, address: '127.0.0.1', port: agent.port, tags, instances },
        { address: '127.0.0.1', port: agent.port, tags, instances, protocol: 'v2', legacyKey: null },
      );
    }

    const legacyKey = randomBytes(12).toString('hex');
    const legacyAgent = await startLegacyAgent({ key: legacyKey });
    stops.push(() => legacyAgent.close());
    await upsertHost(
      store,
      {
        id: DEMO_LEGACY_HOST,
        address: '127.0.0.1',
        port: legacyAgent.port,
        protocol: 'legacy',
        legacyKey,
        tags: { group: 'legacy' },
      },
      {
        address: '127.0.0.1',
        port: legacyAgent.port,
        protocol: 'legacy',
        legacyKey,
        tags: { group: 'legacy' },
      },
    );

    const installed: Promise<InstallReport> = options.workflow
      ? preinstallFleet({
          store,
          workflow: options.workflow,
          masterSecret: options.masterSecret,
          base,
          hosts: hosts.map((h) => ({ id: h.id, port: h.port, next })),
        }).catch((error: unknown) => {
          logger.error({ err: error }, 'demo pre-install failed');
          return { ready: [], failed: hosts.map((h) => ({ id: h.id, reason: String(error) })), actions: [] };
        })
      : Promise.resolve({ ready: [], failed: [], actions: [] });
    void installed.then((report) => options.onInstalled?.(report));

    return {
      hosts,
      origin: { id: DEMO_ORIGIN_HOST, baseUrl: origin.baseUrl },
      legacy: { id: DEMO_LEGACY_HOST, port: legacyAgent.port, agent: legacyAgent },
      installed,
      close: async () => {
        // A pre-install still running would only fail against stopped agents.
        await Promise.race([installed, new Promise((done) => setTimeout(done, 2000))]);
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
};
