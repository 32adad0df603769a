import { checkHealth, type GameStatus } from '../games/index.js';
import { current, prune, switchTo } from '../installer/index.js';
import type { StopResult } from '../process/index.js';
import { type DrainResult, drainPlayers } from './drain.js';
import { AgentError, toJobError } from './errors.js';
import type { GameInstance } from './instance.js';
import type { JobContext } from './jobs.js';
import type { StateStore } from './state.js';

/**
 * Start, stop and switch for one instance, in DESIGN's order: drain → stop → switch `current` →
 * start → health check over the game's own query; a failed check switches back and restarts
 * the previous version. Callers hold the instance lock.
 */
export interface PowerDeps {
  readonly states: StateStore;
  readonly keepReleases: number;
}

export interface StopOptions {
  readonly graceMs?: number;
  readonly drain?: { readonly timeoutMs: number; readonly intervalMs: number };
}

const HEALTH_INTERVAL_MS = 250;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

export const isRunning = (instance: GameInstance): boolean => instance.supervisor.pid !== undefined;

/**
 * Polls the health check until it passes or `timeoutMs` runs out. A server that exits meanwhile
 * fails at once. Cancellation is ignored here on purpose: once a start has happened the job
 * finishes its check so the host is never left half-switched.
 */
export const waitHealthy = async (
  instance: GameInstance,
  timeoutMs: number,
  ctx: JobContext,
): Promise<GameStatus | undefined> => {
  const def = instance.game();
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    if (!isRunning(instance)) {
      const exit = instance.supervisor.status().lastExit;
      throw new AgentError(
        'E_HEALTH_CHECK_FAILED',
        `game server '${instance.name}' exited during its health check${exit ? ` (code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'})` : ''}`,
      );
    }
    const remaining = deadline - Date.now();
    try {
      attempts++;
      const status = await checkHealth(def, {
        ...instance.queryTarget(),
        timeoutMs: Math.max(100, Math.min(def.health.timeoutMs, remaining)),
      });
      ctx.log(`health check passed after ${attempts} attempt(s)`);
      return status;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + HEALTH_INTERVAL_MS >= deadline) {
      const why = toJobError(lastError);
      throw new AgentError(
        'E_HEALTH_CHECK_FAILED',
        `game server '${instance.name}' did not pass its health check within ${Math.round(timeoutMs / 1000)} s (${attempts} attempts; last: ${why.code} ${why.message})`,
      );
    }
    await sleep(HEALTH_INTERVAL_MS);
  }
};

export const startServer = async (
  instance: GameInstance,
  ctx: JobContext,
  deps: PowerDeps,
  options: { healthTimeoutMs: number; healthCheck?: boolean },
): Promise<{ pid: number; version: string; alreadyRunning: boolean; health?: GameStatus }> => {
  const version = await current(instance.dir);
  if (!version) {
    throw new AgentError(
      'E_NOT_INSTALLED',
      `instance '${instance.name}' has no current version; install and switch first`,
    );
  }
  const running = instance.supervisor.pid;
  if (running !== undefined) return { pid: running, version, alreadyRunning: true };
  ctx.progress('start');
  const launch = instance.launch();
  const { pid } = await instance.supervisor.start(launch);
  await deps.states.set(instance.name, 'running');
  ctx.log(`started ${instance.name} ${version} (pid ${pid})`);
  if (options.healthCheck === false) return { pid, version, alreadyRunning: false };
  ctx.progress('health');
  const health = await waitHealthy(instance, options.healthTimeoutMs, ctx);
  return { pid, version, alreadyRunning: false, health };
};

export const stopServer = async (
  instance: GameInstance,
  ctx: JobContext,
  deps: PowerDeps,
  options: StopOptions,
): Promise<StopResult & { drain?: DrainResult }> => {
  let drain: DrainResult | undefined;
  if (options.drain && isRunning(instance)) {
    const def = instance.game();
    ctx.progress('drain', 0, options.drain.timeoutMs);
    drain = await drainPlayers(def, instance.queryTarget(), {
      intervalMs: options.drain.intervalMs,
      timeoutMs: options.drain.timeoutMs,
      signal: ctx.signal,
      onPoll: (poll) => {
        ctx.progress('drain', poll.waitedMs, options.drain?.timeoutMs);
        ctx.log(
          poll.error
            ? `drain: query failed (${toJobError(poll.error).code}); waiting`
            : `drain: ${poll.players ?? '?'} player(s) online`,
        );
      },
    });
    if (drain.aborted) throw ctx.signal.reason ?? new AgentError('E_CANCELLED', 'cancelled during drain');
    ctx.log(
      drain.drained
        ? `drained in ${drain.waitedMs} ms`
        : drain.unsupported
          ? `drain: game '${def.name}' has no player query (health: ${def.health.kind}); stopping without waiting`
          : `drain timed out with ${drain.players ?? 'unknown'} player(s); stopping anyway`,
    );
  }
  ctx.progress('stop');
  // The desired state is written first: a crash mid-stop must not bring the server back.
  await deps.states.set(instance.name, 'stopped');
  const stopped = await instance.supervisor.stop(
    options.graceMs === undefined ? {} : { graceMs: options.graceMs },
  );
  if (stopped.wasRunning)
    ctx.log(`stopped ${instance.name}${stopped.killed ? ' (killed after the grace period)' : ''}`);
  return { ...stopped, drain };
};

export interface SwitchOptions extends StopOptions {
  readonly healthTimeoutMs: number;
  /** Start the server on the new version (default true). */
  readonly start?: boolean;
}

/**
 * Switches `current` to an installed version. A failed start or health check switches back,
 * restarts the previous version when it was running, and fails the job with
 * E_HEALTH_CHECK_FAILED: the host is left serving what it served before.
 */
export const switchVersion = async (
  instance: GameInstance,
  target: string,
  ctx: JobContext,
  deps: PowerDeps,
  options: SwitchOptions,
) => {
  const from = await current(instance.dir);
  const wasRunning = isRunning(instance);
  const shouldStart = options.start ?? true;
  if (from === target && (wasRunning || !shouldStart)) {
    return { version: target, previous: from, switched: false, pid: instance.supervisor.pid };
  }
  if (wasRunning) await stopServer(instance, ctx, deps, options);
  ctx.progress('switch');
  await switchTo(instance.dir, target);
  ctx.log(`current: ${from ?? '(none)'} -> ${target}`);
  if (!shouldStart) return { version: target, previous: from, switched: true, pid: undefined };
  try {
    const started = await startServer(instance, ctx, deps, { healthTimeoutMs: options.healthTimeoutMs });
    const pruned = await prune(instance.dir, { keep: deps.keepReleases, protect: [target] });
    return {
      version: target,
      previous: from,
      switched: true,
      pid: started.pid,
      health: started.health,
      pruned,
    };
  } catch (error) {
    const failure = toJobError(error);
    ctx.log(`${target} failed: ${failure.code} ${failure.message}`);
    await revert(instance, from, wasRunning, ctx, deps, options);
    const serving =
      wasRunning && isRunning(instance) ? `; ${from} is serving again (pid ${instance.supervisor.pid})` : '';
    throw new AgentError(
      'E_HEALTH_CHECK_FAILED',
      `version ${target} failed (${failure.code}: ${failure.message}); switched back to ${from ?? 'nothing'}${serving}`,
      { cause: error },
    );
  }
};

const revert = async (
  instance: GameInstance,
  from: string | undefined,
  wasRunning: boolean,
  ctx: JobContext,
  deps: PowerDeps,
  options: SwitchOptions,
): Promise<void> => {
  ctx.progress('revert');
  await instance.supervisor.stop({});
  if (!from) {
    await deps.states.set(instance.name, 'stopped');
    return;
  }
  await switchTo(instance.dir, from);
  ctx.log(`current: switched back to ${from}`);
  if (!wasRunning) {
    await deps.states.set(instance.name, 'stopped');
    return;
  }
  try {
    await startServer(instance, ctx, deps, { healthTimeoutMs: options.healthTimeoutMs });
  } catch (error) {
    ctx.log(`previous version ${from} did not come back healthy: ${toJobError(error).message}`);
  }
};
