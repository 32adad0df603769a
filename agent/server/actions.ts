import { z } from 'zod';
import { describeIssues } from '../../core/field-issues.js';
import type { Logger } from '../../core/log.js';
import { Id, Version } from '../../core/model/index.js';
import { type GameAction, type GameCatalog, getGame, queryGame } from '../games/index.js';
import {
  current,
  installPackage,
  listReleases,
  previous,
  prune,
  stagePackage,
  uninstall,
  unstagePackage,
} from '../installer/index.js';
import { hostDetails } from './details.js';
import { AgentError } from './errors.js';
import type { GameInstance } from './instance.js';
import type { JobContext, JobRequest } from './jobs.js';
import { isRunning, type PowerDeps, startServer, stopServer, switchVersion } from './power.js';

/**
 * The one entry point for actions (Wings' HandlePowerAction): every JOB goes through
 * `runJob` → `handleAction`. An action is a name from this allow-list, checked against the
 * instance's game definition; parameters are validated per action; nothing is ever a command line.
 */
export const ACTIONS = [
  'install',
  'deploy',
  'switch',
  'start',
  'stop',
  'restart',
  'status',
  'rollback',
  'uninstall',
  'details',
  'stage',
  'unstage',
] as const;
export type Action = (typeof ACTIONS)[number];
export const isAction = (value: string): value is Action => (ACTIONS as readonly string[]).includes(value);

/** Host-level actions name no instance. */
const HOST_ACTIONS: ReadonlySet<Action> = new Set(['details', 'stage', 'unstage']);
/** What each action needs the game definition to allow. */
const NEEDS: Readonly<Record<Action, readonly GameAction[]>> = {
  install: ['install'],
  deploy: ['install', 'stop', 'start'],
  switch: ['stop', 'start'],
  start: ['start'],
  stop: ['stop'],
  restart: ['restart'],
  status: ['status'],
  rollback: ['rollback'],
  uninstall: ['uninstall'],
  details: [],
  stage: [],
  unstage: [],
};

const Sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'sha256 is 64 hex digits');
const Url = z
  .string()
  .max(4096)
  .url()
  .refine((value) => /^https?:\/\//i.test(value), 'only http and https origins');
const Drain = z.union([
  z.boolean(),
  z.object({
    timeoutSec: z.number().min(0).max(86_400).optional(),
    intervalMs: z.number().int().min(50).max(60_000).optional(),
  }),
]);
const StopParams = z.object({ graceSec: z.number().min(0).max(3600).optional(), drain: Drain.optional() });
const HealthParams = z.object({ healthTimeoutSec: z.number().min(1).max(3600).optional() });
const Package = z.object({
  urls: z.array(Url).min(1).max(16),
  sha256: Sha256,
  size: z.number().int().nonnegative().optional(),
  version: Version,
  /** The package's game; refused when it is not this instance's. */
  game: z.string().min(1).max(64).optional(),
});

export const ACTION_PARAMS = {
  install: Package,
  deploy: Package.extend({ start: z.boolean().optional() }).merge(StopParams).merge(HealthParams),
  switch: z.object({ version: Version, start: z.boolean().optional() }).merge(StopParams).merge(HealthParams),
  start: HealthParams.extend({ healthCheck: z.boolean().optional() }),
  stop: StopParams,
  restart: StopParams.merge(HealthParams),
  status: z.object({}),
  rollback: StopParams.merge(HealthParams).extend({ start: z.boolean().optional() }),
  uninstall: z.object({ graceSec: z.number().min(0).max(3600).optional() }),
  details: z.object({}),
  stage: z.object({
    url: Url,
    sha256: Sha256,
    size: z.number().int().nonnegative().optional(),
    game: Id,
    version: Version,
    file: z.string().min(1).max(200),
  }),
  unstage: z.object({ game: Id, version: Version, file: z.string().min(1).max(200) }),
} as const satisfies Record<Action, z.ZodType>;
type Params<A extends Action> = z.infer<(typeof ACTION_PARAMS)[A]>;

/** What the actions need from the agent: its config, its instances and its state store. */
export interface AgentRuntime extends PowerDeps {
  readonly dataDir: string;
  readonly role: 'game' | 'origin';
  readonly webRoot?: string;
  readonly drain: { readonly timeoutSec: number; readonly intervalMs: number };
  readonly maxReleaseBytes?: number;
  /** The agent's definitions (built-ins plus its config's `games`); the built-ins otherwise. */
  readonly games?: GameCatalog;
  readonly instances: ReadonlyMap<string, GameInstance>;
  readonly logger: Logger;
}

export type ActionContext = JobContext & { readonly agent: AgentRuntime };

const stopOptions = (agent: AgentRuntime, params: z.infer<typeof StopParams>) => {
  const drain = params.drain === true ? {} : params.drain === false ? undefined : params.drain;
  return {
    graceMs: params.graceSec === undefined ? undefined : params.graceSec * 1000,
    drain: drain && {
      timeoutMs: (drain.timeoutSec ?? agent.drain.timeoutSec) * 1000,
      intervalMs: drain.intervalMs ?? agent.drain.intervalMs,
    },
  };
};

const healthMs = (instance: GameInstance, params: { healthTimeoutSec?: number }) =>
  params.healthTimeoutSec === undefined ? instance.healthTimeoutMs : params.healthTimeoutSec * 1000;

/** The status of one instance: supervision, versions, and what the game says over its query. */
export const instanceStatus = async (instance: GameInstance, withQuery = true) => {
  const s = instance.supervisor.status();
  const base = {
    instance: instance.name,
    game: instance.spec.game,
    port: instance.spec.port,
    state: s.state,
    running: s.pid !== undefined,
    pid: s.pid,
    startedAt: s.startedAt,
    uptimeSec: s.uptimeMs === undefined ? undefined : Math.round(s.uptimeMs / 1000),
    adopted: s.adopted,
    restarts: s.restarts,
    crashLoop: s.crashLoop,
    version: await current(instance.dir),
    previous: await previous(instance.dir),
    releases: (await listReleases(instance.dir)).map((r) => r.version),
    busy: instance.busyWith,
  };
  if (!withQuery || !base.running || !instance.def) return base;
  try {
    const q = await queryGame(instance.def, instance.queryTarget());
    return {
      ...base,
      query: {
        ok: true as const,
        name: q.name,
        map: q.map,
        players: q.players,
        maxPlayers: q.maxPlayers,
        ping: q.ping,
      },
    };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { ...base, query: { ok: false as const, code: code ?? 'E_QUERY_FAILED', message } };
  }
};

const install = (instance: GameInstance, params: Params<'install'>, ctx: ActionContext) =>
  installPackage({
    urls: params.urls,
    sha256: params.sha256,
    size: params.size,
    version: params.version,
    instanceDir: instance.dir,
    signal: ctx.signal,
    logger: ctx.agent.logger.child({ instance: instance.name, jobId: ctx.jobId }),
    limits: ctx.agent.maxReleaseBytes ? { maxBytes: ctx.agent.maxReleaseBytes } : undefined,
    onProgress: (bytes, total) => ctx.progress('download', bytes, total),
  }).then(async (result) => {
    ctx.log(`installed ${result.version} from ${result.origin}${result.reused ? ' (already there)' : ''}`);
    const pruned = await prune(instance.dir, { keep: ctx.agent.keepReleases, protect: [result.version] });
    return { ...result, pruned };
  });

/**
 * Runs one validated action. `instance` is undefined only for host-level actions. The caller
 * (`runJob`) has checked the action against the game definition.
 */
export const handleAction = async (
  instance: GameInstance | undefined,
  action: Action,
  params: unknown,
  ctx: ActionContext,
): Promise<unknown> => {
  const { agent } = ctx;
  if (action === 'details') return hostDetails(agent.dataDir);
  if (action === 'stage') {
    if (agent.role !== 'origin' || !agent.webRoot)
      throw new AgentError('E_WRONG_ROLE', 'stage runs only on an agent with role "origin" and a webRoot');
    const p = ACTION_PARAMS.stage.parse(params);
    (agent.games?.get ?? getGame)(p.game);
    return stagePackage({
      ...p,
      webRoot: agent.webRoot,
      signal: ctx.signal,
      onProgress: (b, t) => ctx.progress('download', b, t),
    });
  }
  if (action === 'unstage') {
    if (agent.role !== 'origin' || !agent.webRoot)
      throw new AgentError('E_WRONG_ROLE', 'unstage runs only on an agent with role "origin" and a webRoot');
    const p = ACTION_PARAMS.unstage.parse(params);
    return unstagePackage({ ...p, webRoot: agent.webRoot, logger: agent.logger });
  }
  if (!instance) throw new AgentError('E_UNKNOWN_INSTANCE', `${action} needs an instance`);
  // Read-only: no lock, so status answers while a deploy runs.
  if (action === 'status') return instanceStatus(instance);
  return instance.exclusive({ jobId: ctx.jobId, action }, async () => {
    switch (action) {
      case 'install':
        return install(instance, ACTION_PARAMS.install.parse(params), ctx);
      case 'deploy': {
        const p = ACTION_PARAMS.deploy.parse(params);
        // Pre-stage first, interrupt last: the running version is untouched until the switch.
        const installed = await install(instance, p, ctx);
        ctx.signal.throwIfAborted();
        const switched = await switchVersion(instance, p.version, ctx, agent, {
          ...stopOptions(agent, p),
          healthTimeoutMs: healthMs(instance, p),
          start: p.start,
        });
        return { installed, ...switched };
      }
      case 'switch': {
        const p = ACTION_PARAMS.switch.parse(params);
        return switchVersion(instance, p.version, ctx, agent, {
          ...stopOptions(agent, p),
          healthTimeoutMs: healthMs(instance, p),
          start: p.start,
        });
      }
      case 'rollback': {
        const p = ACTION_PARAMS.rollback.parse(params);
        const target = await previous(instance.dir);
        if (!target)
          throw new AgentError('E_NOT_INSTALLED', `instance '${instance.name}' has no previous version`);
        return switchVersion(instance, target, ctx, agent, {
          ...stopOptions(agent, p),
          healthTimeoutMs: healthMs(instance, p),
          start: p.start,
        });
      }
      case 'start': {
        const p = ACTION_PARAMS.start.parse(params);
        return startServer(instance, ctx, agent, {
          healthTimeoutMs: healthMs(instance, p),
          healthCheck: p.healthCheck,
        });
      }
      case 'stop':
        return stopServer(instance, ctx, agent, stopOptions(agent, ACTION_PARAMS.stop.parse(params)));
      case 'restart': {
        const p = ACTION_PARAMS.restart.parse(params);
        const stopped = await stopServer(instance, ctx, agent, stopOptions(agent, p));
        const started = await startServer(instance, ctx, agent, { healthTimeoutMs: healthMs(instance, p) });
        return { stopped, ...started };
      }
      case 'uninstall': {
        const p = ACTION_PARAMS.uninstall.parse(params);
        const stopped = isRunning(instance)
          ? await stopServer(instance, ctx, agent, {
              graceMs: p.graceSec === undefined ? undefined : p.graceSec * 1000,
            })
          : undefined;
        await uninstall(instance.dir);
        await agent.states.set(instance.name, 'stopped');
        return { uninstalled: true, stopped };
      }
    }
  });
};

/** Picks the instance a job names; with a single instance on the host it may be left out. */
const resolveInstance = (agent: AgentRuntime, params: Record<string, unknown>): GameInstance => {
  const name = params.instance;
  if (name === undefined && agent.instances.size === 1)
    return [...agent.instances.values()][0] as GameInstance;
  if (typeof name !== 'string')
    throw new AgentError('E_BAD_PARAMS', 'params.instance names the game-server instance');
  const instance = agent.instances.get(name);
  if (!instance) {
    throw new AgentError(
      'E_UNKNOWN_INSTANCE',
      `no instance '${name.slice(0, 64)}' on this host (instances: ${[...agent.instances.keys()].join(', ') || 'none'})`,
    );
  }
  return instance;
};

/**
 * A JOB as the listener hands it over: refuse anything not on the allow-list, bad parameters,
 * an unknown instance or game, an action the game does not allow; then run it.
 */
export const runJob = async (job: JobRequest, ctx: ActionContext): Promise<unknown> => {
  if (!isAction(job.action)) {
    throw new AgentError(
      'E_UNKNOWN_ACTION',
      `'${job.action}' is not an action (known: ${ACTIONS.join(', ')})`,
    );
  }
  const action = job.action;
  const { instance: _name, ...rest } = job.params;
  const parsed = ACTION_PARAMS[action].safeParse(rest);
  if (!parsed.success)
    throw new AgentError(
      'E_BAD_PARAMS',
      `bad params for ${action}: ${describeIssues(parsed.error, '(params)')}`,
    );
  if (HOST_ACTIONS.has(action)) return handleAction(undefined, action, parsed.data, ctx);
  const instance = resolveInstance(ctx.agent, job.params);
  const def = instance.game();
  const game = (parsed.data as { game?: string }).game;
  if (game !== undefined) {
    (ctx.agent.games?.get ?? getGame)(game);
    if (game !== def.name)
      throw new AgentError(
        'E_GAME_MISMATCH',
        `a ${game} package cannot go on instance '${instance.name}' (${def.name})`,
      );
  }
  const denied = NEEDS[action].filter((needed) => !def.actions.includes(needed));
  if (denied.length > 0) {
    throw new AgentError('E_ACTION_NOT_ALLOWED', `game '${def.name}' does not allow ${denied.join(', ')}`);
  }
  return handleAction(instance, action, parsed.data, ctx);
};
