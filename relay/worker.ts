import {
  GetActivityTaskCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { Logger } from '../core/log.js';
import { RelayTaskInput } from '../core/model/index.js';
import { INVALID_INPUT_ERROR, RELAY_FAILED_ERROR } from './errors.js';
import { type FanoutDeps, runShard, ShardAbandoned } from './fanout.js';
import { Semaphore } from './semaphore.js';
import { sleep } from './sessions.js';

export interface WorkerOptions {
  readonly activityArn: string;
  readonly relayId: string;
  readonly pollers: number;
  readonly maxTasks: number;
  readonly heartbeatMs: number;
}

export interface WorkerDeps extends FanoutDeps {
  readonly sfn: SFNClient;
}

/** Step Functions error names are at most 256 characters, causes 32 KiB. */
const MAX_CAUSE = 32_000;
const POLL_ERROR_PAUSE_MS = 1000;

/** Token bookkeeping for one running shard. */
interface RunningTask {
  readonly token: string;
  readonly parentId: string;
  readonly abort: AbortController;
  readonly done: Promise<void>;
  /** Set by close(): the shard is left for a retry instead of completed. */
  handBack: boolean;
  /** Set by close({abandon}): say nothing (a crash as Step Functions sees it). */
  silent: boolean;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The Step Functions side: `pollers` long polls, each taking a task only when a task slot is
 * free; per task a heartbeat every `heartbeatMs` while the shard runs, then SendTaskSuccess with
 * the RelayTaskOutput, or SendTaskFailure with a named error.
 */
export class ActivityWorker {
  readonly #options: WorkerOptions;
  readonly #deps: WorkerDeps;
  readonly #logger: Logger;
  readonly #slots: Semaphore;
  readonly #polling = new AbortController();
  readonly #tasks = new Set<RunningTask>();
  #pollers: Promise<void>[] = [];

  constructor(options: WorkerOptions, deps: WorkerDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#logger = deps.logger.child({ activity: options.activityArn });
    this.#slots = new Semaphore(options.maxTasks);
  }

  start(): void {
    this.#pollers = Array.from({ length: this.#options.pollers }, (_, i) => this.#poll(i));
  }

  get running(): number {
    return this.#tasks.size;
  }

  /** Stops taking tasks; in-flight long polls end at once (an answered poll would take a task nobody runs). */
  async stopPolling(): Promise<void> {
    this.#polling.abort();
    await Promise.all(this.#pollers);
  }

  /** Waits up to `graceMs` for running shards; the rest are handed back (or, with `abandon`, dropped silently). */
  async drain(graceMs: number, abandon = false): Promise<void> {
    await this.stopPolling();
    const all = Promise.all([...this.#tasks].map((t) => t.done));
    if (!abandon && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    for (const task of this.#tasks) {
      task.handBack = !abandon;
      task.silent = abandon;
      task.abort.abort();
    }
    await all;
  }

  async #poll(index: number): Promise<void> {
    const signal = this.#polling.signal;
    const workerName = `${this.#options.relayId}#${index}`.slice(0, 80);
    while (!signal.aborted) {
      let release: (() => void) | undefined;
      try {
        release = await this.#slots.acquire(signal);
        const task = await this.#deps.sfn.send(
          new GetActivityTaskCommand({ activityArn: this.#options.activityArn, workerName }),
          { abortSignal: signal },
        );
        if (!task.taskToken) {
          release();
          continue;
        }
        const held = release;
        release = undefined;
        this.#begin(task.taskToken, task.input ?? '', held);
      } catch (error) {
        release?.();
        if (signal.aborted) return;
        this.#logger.warn({ err: error }, 'GetActivityTask failed; polling again shortly');
        await sleep(POLL_ERROR_PAUSE_MS, signal).catch(() => undefined);
      }
    }
  }

  #begin(token: string, rawInput: string, release: () => void): void {
    let input: RelayTaskInput;
    try {
      const parsed = RelayTaskInput.safeParse(JSON.parse(rawInput));
      if (!parsed.success) {
        const detail = parsed.error.issues
          .map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`)
          .join('; ');
        throw new Error(`the task input is not a RelayTaskInput: ${detail}`);
      }
      input = parsed.data;
    } catch (error) {
      this.#logger.warn({ reason: errorText(error) }, 'refusing a task with bad input');
      void this.#fail(token, INVALID_INPUT_ERROR, errorText(error)).finally(release);
      return;
    }
    const abort = new AbortController();
    const task: RunningTask = {
      token,
      parentId: input.parentId,
      abort,
      handBack: false,
      silent: false,
      done: Promise.resolve(),
    };
    (task as { done: Promise<void> }).done = this.#run(task, input).finally(() => {
      this.#tasks.delete(task);
      release();
    });
    this.#tasks.add(task);
  }

  async #run(task: RunningTask, input: RelayTaskInput): Promise<void> {
    const logger = this.#logger.child({ parentId: input.parentId });
    logger.info({ jobs: input.jobs.length, maxConcurrency: input.maxConcurrency }, 'shard started');
    const heartbeat = setInterval(() => void this.#heartbeat(task, logger), this.#options.heartbeatMs);
    try {
      const output = await runShard(input, { ...this.#deps, logger }, task.abort.signal);
      clearInterval(heartbeat);
      await this.#deps.sfn.send(
        new SendTaskSuccessCommand({ taskToken: task.token, output: JSON.stringify(output) }),
      );
      logger.info({ counts: output.counts }, 'shard done');
    } catch (error) {
      clearInterval(heartbeat);
      if (task.silent) {
        logger.warn('shard dropped without a word (abandoned)');
        return;
      }
      if (error instanceof ShardAbandoned || task.abort.signal.aborted) {
        // Handing back is letting the heartbeat lapse: the workflows retry States.HeartbeatTimeout,
        // and the retried shard re-attaches to the jobs still running on the agents.
        if (task.handBack) logger.info('shard handed back: its heartbeat stops, the retry re-attaches');
        else logger.warn('shard abandoned: its task token is gone');
        return;
      }
      logger.error({ err: error }, 'shard failed');
      await this.#fail(task.token, RELAY_FAILED_ERROR, errorText(error));
    }
  }

  async #heartbeat(task: RunningTask, logger: Logger): Promise<void> {
    try {
      await this.#deps.sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.token }));
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken') {
        // The workflow gave up on this attempt (and may have retried it elsewhere): stop dispatching.
        logger.warn({ reason: errorText(error) }, 'task token is gone; abandoning the shard');
        task.abort.abort();
      } else logger.warn({ err: error }, 'heartbeat failed; trying again next interval');
    }
  }

  async #fail(token: string, error: string, cause: string): Promise<void> {
    try {
      await this.#deps.sfn.send(
        new SendTaskFailureCommand({ taskToken: token, error, cause: cause.slice(0, MAX_CAUSE) }),
      );
    } catch (sendError) {
      this.#logger.warn({ err: sendError, error }, 'SendTaskFailure failed');
    }
  }
}
