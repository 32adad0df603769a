import type { Logger } from '../../core/log.js';
import type { Message, MessageOf } from '../../protocol/index.js';
import { AgentError, toJobError } from './errors.js';
import type { JobOutcome, JobRecord, Journal } from './journal.js';

/** Where a job's frames go: a session, wrapped so a closed one is simply skipped. */
export interface JobSubscriber {
  send(message: Message): void;
}

export interface JobContext {
  readonly jobId: string;
  readonly signal: AbortSignal;
  progress(phase: string, bytes?: number, total?: number): void;
  log(...lines: string[]): void;
}

export interface JobRequest {
  readonly jobId: string;
  readonly action: string;
  readonly params: Record<string, unknown>;
}

/** Runs one job: resolves with its result, throws a typed error. */
export type JobExecutor = (job: JobRequest, ctx: JobContext) => Promise<unknown>;

interface LiveJob {
  readonly jobId: string;
  readonly action: string;
  readonly controller: AbortController;
  readonly subscribers: Set<JobSubscriber>;
  lastProgress: MessageOf<'PROGRESS'> | undefined;
  done: Promise<void>;
}

const MAX_LOG_LINE = 4000;

const resultFrame = (jobId: string, outcome: JobOutcome): MessageOf<'RESULT'> =>
  outcome.ok
    ? { type: 'RESULT', jobId, ok: true, result: outcome.result ?? null }
    : { type: 'RESULT', jobId, ok: false, error: outcome.error };

/**
 * Jobs outlive the session that sent them: a relay that reconnects re-attaches (ATTACH, or the
 * same JOB again) and gets the live PROGRESS/LOG/RESULT, or the recorded RESULT once it ended.
 * Every job id is journalled before its ACK, so a job is run at most once.
 */
export class JobRunner {
  readonly #journal: Journal;
  readonly #execute: JobExecutor;
  readonly #logger: Logger;
  readonly #live = new Map<string, LiveJob>();
  #closing = false;

  constructor(journal: Journal, execute: JobExecutor, logger: Logger) {
    this.#journal = journal;
    this.#execute = execute;
    this.#logger = logger;
  }

  running(): { jobId: string; action: string; phase?: string }[] {
    return [...this.#live.values()].map((job) => ({
      jobId: job.jobId,
      action: job.action,
      phase: job.lastProgress?.phase,
    }));
  }

  /** JOB: journal, ACK, run in the background. Resolves once the ACK is sent (never after the run). */
  async submit(subscriber: JobSubscriber, job: JobRequest, instance: string | undefined): Promise<void> {
    if (this.#live.has(job.jobId) || this.#journal.get(job.jobId)) {
      subscriber.send({ type: 'ACK', jobId: job.jobId, status: 'duplicate' });
      this.attach(subscriber, job.jobId);
      return;
    }
    if (this.#closing) {
      subscriber.send({ type: 'ACK', jobId: job.jobId, status: 'accepted' });
      subscriber.send(
        resultFrame(job.jobId, {
          ok: false,
          error: { code: 'E_SHUTTING_DOWN', message: 'the agent is shutting down; send the job again' },
        }),
      );
      return;
    }
    const live: LiveJob = {
      jobId: job.jobId,
      action: job.action,
      controller: new AbortController(),
      subscribers: new Set([subscriber]),
      lastProgress: undefined,
      done: Promise.resolve(),
    };
    // Claimed before the journal write, so the same id sent twice at once runs once.
    this.#live.set(job.jobId, live);
    try {
      await this.#journal.begin({ jobId: job.jobId, action: job.action, instance });
    } catch (error) {
      this.#live.delete(job.jobId);
      this.#logger.error({ err: error, jobId: job.jobId }, 'cannot journal the job; refusing it');
      subscriber.send(
        resultFrame(job.jobId, {
          ok: false,
          error: { code: 'E_INTERNAL', message: 'the agent could not write its job journal' },
        }),
      );
      return;
    }
    subscriber.send({ type: 'ACK', jobId: job.jobId, status: 'accepted' });
    live.done = this.#run(live, job);
  }

  /** ATTACH (or a duplicate JOB): the live stream from its last PROGRESS on, or the recorded RESULT. */
  attach(subscriber: JobSubscriber, jobId: string): void {
    const live = this.#live.get(jobId);
    if (live) {
      if (live.lastProgress) subscriber.send(live.lastProgress);
      live.subscribers.add(subscriber);
      return;
    }
    const record: JobRecord | undefined = this.#journal.get(jobId);
    if (record?.outcome) {
      subscriber.send(resultFrame(jobId, record.outcome));
      return;
    }
    subscriber.send(
      resultFrame(jobId, {
        ok: false,
        error: { code: 'E_UNKNOWN_JOB', message: `this agent has no record of job ${jobId}` },
      }),
    );
  }

  /** CANCEL: the job's signal aborts; its RESULT (E_CANCELLED, or what it reached) follows. */
  cancel(subscriber: JobSubscriber, jobId: string): void {
    const live = this.#live.get(jobId);
    if (live) {
      live.subscribers.add(subscriber);
      live.controller.abort(new AgentError('E_CANCELLED', `job ${jobId} was cancelled`));
      return;
    }
    this.attach(subscriber, jobId);
  }

  /** A session went away: its jobs keep running for whoever attaches next. */
  unsubscribe(subscriber: JobSubscriber): void {
    for (const live of this.#live.values()) live.subscribers.delete(subscriber);
  }

  /**
   * Shutdown: refuse new jobs, abort the running ones and give them `graceMs` to record their
   * result. A job that does not settle in time stays `running` in the journal and is reported
   * E_AGENT_RESTARTED by the next agent.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    for (const live of this.#live.values()) {
      live.controller.abort(new AgentError('E_SHUTTING_DOWN', 'the agent is shutting down'));
    }
    const all = Promise.allSettled([...this.#live.values()].map((live) => live.done));
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    await this.#journal.flush();
  }

  async #run(live: LiveJob, job: JobRequest): Promise<void> {
    const { jobId } = live;
    const broadcast = (message: Message) => {
      for (const subscriber of live.subscribers) subscriber.send(message);
    };
    const ctx: JobContext = {
      jobId,
      signal: live.controller.signal,
      progress: (phase, bytes, total) => {
        const frame: MessageOf<'PROGRESS'> = {
          type: 'PROGRESS',
          jobId,
          phase: phase.slice(0, 64),
          bytes,
          total,
        };
        live.lastProgress = frame;
        broadcast(frame);
      },
      log: (...lines) => broadcast({ type: 'LOG', jobId, lines: lines.map((l) => l.slice(0, MAX_LOG_LINE)) }),
    };
    const logger = this.#logger.child({ jobId, action: job.action });
    logger.info('job started');
    let outcome: JobOutcome;
    try {
      outcome = { ok: true, result: await this.#execute(job, ctx) };
    } catch (error) {
      const aborted = live.controller.signal.aborted;
      outcome = {
        ok: false,
        error: toJobError(aborted && !(error instanceof AgentError) ? live.controller.signal.reason : error),
      };
      if (outcome.error.code === 'E_INTERNAL') logger.error({ err: error }, 'job failed unexpectedly');
    }
    try {
      await this.#journal.finish(jobId, outcome);
    } catch (error) {
      logger.error({ err: error }, 'cannot journal the job result');
    }
    this.#live.delete(jobId);
    logger.info({ ok: outcome.ok, code: outcome.ok ? undefined : outcome.error.code }, 'job finished');
    broadcast(resultFrame(jobId, outcome));
  }
}
