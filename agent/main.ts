import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, type Logger } from '../core/log.js';
import type { SessionListener } from '../protocol/index.js';
import { type AgentConfig, loadAgentConfig } from './config.js';
import { gameCatalog } from './games/index.js';
import { startListener } from './listener.js';
import { type AgentRuntime, runJob } from './server/actions.js';
import { GameInstance } from './server/instance.js';
import { JobRunner } from './server/jobs.js';
import { Journal } from './server/journal.js';
import { InstanceObserver } from './server/observer.js';
import { restoreInstances, StateStore } from './server/state.js';

/** How long running jobs get to record their result when the agent is asked to stop. */
const SHUTDOWN_GRACE_MS = 5000;
const AGENT_VERSION = '0.1.0';
/** How often STATUS's version, players and map are refreshed (a game query per running instance). */
const STATUS_REFRESH_MS = 5000;

export interface RunningAgent {
  readonly port: number;
  readonly host: string;
  /** Stop accepting, let running jobs record their result, detach the game servers (they keep running). */
  close(): Promise<void>;
}

/** Builds and starts an agent from a validated config. */
export const startAgent = async (config: AgentConfig, logger: Logger): Promise<RunningAgent> => {
  const started = Date.now();
  await mkdir(config.dataDir, { recursive: true, mode: 0o750 });
  // The installer refuses a web root that is missing (it resolves it to guard against links).
  if (config.role === 'origin' && config.webRoot)
    await mkdir(config.webRoot, { recursive: true, mode: 0o755 });
  const states = await StateStore.open(join(config.dataDir, 'state.json'));
  const { journal, interrupted } = await Journal.open(join(config.dataDir, 'journal'), {
    logger,
    retentionMs: config.journalRetentionDays * 86_400_000,
  });
  for (const job of interrupted) {
    logger.warn(
      { jobId: job.jobId, action: job.action },
      'job cut off by an agent restart; recorded as failed',
    );
  }
  // Per agent, not per process: several agents in one process (the benches) each know their own games.
  const games = gameCatalog(config.games);
  const instances = new Map<string, GameInstance>();
  for (const spec of config.instances) {
    const instance = new GameInstance(spec, {
      games,
      dataDir: config.dataDir,
      allowRoot: config.allowRoot,
      healthTimeoutSec: config.healthTimeoutSec,
      logger,
    });
    if (!instance.def)
      logger.error(
        { instance: spec.name, game: spec.game },
        'game not in the definitions; instance unusable',
      );
    instances.set(spec.name, instance);
  }
  for (const report of await restoreInstances([...instances.values()], states, logger)) {
    logger.info(report, 'instance restored');
  }

  const runtime: AgentRuntime = {
    dataDir: config.dataDir,
    role: config.role,
    webRoot: config.webRoot,
    drain: config.drain,
    maxReleaseBytes: config.maxReleaseBytes,
    keepReleases: config.keepReleases,
    games,
    states,
    instances,
    logger,
  };
  const observer = new InstanceObserver([...instances.values()], {
    intervalMs: STATUS_REFRESH_MS,
    logger,
  });
  const jobs = new JobRunner(journal, (job, ctx) => runJob(job, { ...ctx, agent: runtime }), logger);
  const status = () => ({
    hostId: config.hostId,
    role: config.role,
    agentVersion: AGENT_VERSION,
    pid: process.pid,
    uptimeSec: Math.round((Date.now() - started) / 1000),
    jobs: jobs.running(),
    instances: Object.fromEntries(
      [...instances.values()].map((instance) => {
        const s = instance.supervisor.status();
        return [
          instance.name,
          {
            game: instance.spec.game,
            state: s.state,
            pid: s.pid,
            adopted: s.adopted,
            busy: instance.busyWith?.jobId,
            ...observer.of(instance.name),
          },
        ];
      }),
    ),
  });
  const instanceOf = (params: Record<string, unknown>) =>
    typeof params.instance === 'string' && instances.has(params.instance)
      ? params.instance
      : instances.size === 1
        ? [...instances.keys()][0]
        : undefined;

  let listener: SessionListener;
  try {
    listener = await startListener({ config, jobs, status, instanceOf, logger });
  } catch (error) {
    for (const instance of instances.values()) instance.supervisor.detach();
    throw error;
  }
  observer.start();
  logger.info(
    { host: listener.host, port: listener.port, hostId: config.hostId, tls: Boolean(config.tls) },
    'agent listening',
  );

  let closing: Promise<void> | undefined;
  return {
    port: listener.port,
    host: listener.host,
    close: () => {
      closing ??= (async () => {
        await jobs.close(SHUTDOWN_GRACE_MS);
        await observer.stop();
        await listener.close();
        for (const instance of instances.values()) instance.supervisor.detach();
        await states.flush();
        await journal.flush();
        logger.info('agent stopped; game servers left running');
      })();
      return closing;
    },
  };
};

/** `gsm agent --config FILE`: runs until SIGTERM or SIGINT, then exits 0 leaving game servers up. */
export const runAgent = async (configFile: string): Promise<number> => {
  const config = await loadAgentConfig(configFile);
  const logger = createLogger('agent', { level: config.logLevel }).child({ hostId: config.hostId });
  const agent = await startAgent(config, logger);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info({ signal }, 'stopping');
  await agent.close();
  return 0;
};
