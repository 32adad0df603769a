import { StateConflictError } from '../core/errors.js';
import {
  type Host,
  type HostJobOutcome,
  type HostJobSpec,
  isTerminalJobState,
  type Job,
  LOG_TAIL_LINES,
} from '../core/model/index.js';
import type { JobActivityCursor, NewJob, Store } from '../core/store/types.js';
import { ProtocolError } from '../protocol/index.js';
import { RELAY_ERROR_CODES } from './errors.js';
import type { HostCache } from './host-cache.js';
import { runLegacyJob } from './legacy.js';
import { describe, type Finisher, finishJob, jobError, outcomeOf } from './outcome.js';
import {
  type AgentConnection,
  isPermanentConnectError,
  type JobFrame,
  type SessionPool,
  sleep,
} from './sessions.js';

/**
 * At most one activity write (the latest progress and the log lines since the last one, in one
 * store call) per job per interval: a chatty agent cannot flood the table. Once a second is what
 * readers see anyway (the API's shared view of a release's jobs is up to a second old).
 */
const ACTIVITY_EVERY_MS = 1000;
const RECONNECT_PAUSE_MS = 200;
/**
 * A job whose RESULT comes within this of its ACK never gets a separate `running` write: the
 * end state is written straight from `dispatched`, one store call instead of two. Longer jobs
 * show `running` this late at most.
 */
const RUNNING_WRITE_AFTER_MS = 250;

export interface JobDeps extends Finisher {
  readonly pool: SessionPool;
  readonly relayId: string;
  readonly hosts?: HostCache;
}

export interface HostJobRun {
  readonly spec: HostJobSpec;
  readonly parentType: Job['parentType'];
  readonly parentId: string;
  readonly timeoutMs: number;
  /** The shard was abandoned (relay stopping, task token gone): stop watching, leave the job as it is. */
  readonly signal: AbortSignal;
  /** The job's record as the shard's batch create left it; read or created here otherwise. */
  readonly job?: Job;
}

export const newJobOf = (run: Pick<HostJobRun, 'spec' | 'parentType' | 'parentId'>): NewJob => ({
  id: run.spec.jobId,
  parentType: run.parentType,
  parentId: run.parentId,
  hostId: run.spec.hostId,
  action: run.spec.action,
  params: run.spec.params,
});

/** Creates the job record first, so even a host we cannot reach has a job saying why. */
export const createJob = (store: Store, run: Pick<HostJobRun, 'spec' | 'parentType' | 'parentId'>) =>
  store.jobs.create(newJobOf(run));

/**
 * queued → dispatched by one conditional write: only the relay whose write moved the job sends
 * JOB; every other one re-attaches. The write returns nothing (the record we hold is updated
 * here), and the stored job is read only when the claim was lost.
 */
export const claimJob = async (
  store: Store,
  job: Job,
  relayId: string,
): Promise<{ claimed: boolean; job: Job }> => {
  if (job.state !== 'queued') return { claimed: false, job };
  if (await store.jobs.claim(job.id, relayId))
    return { claimed: true, job: { ...job, state: 'dispatched', result: { dispatchedBy: relayId } } };
  return { claimed: false, job: await store.jobs.get(job.id) };
};

/**
 * One host job, start to end: record → look up the host → claim → JOB (or ATTACH to a job
 * another relay started) → ACK/PROGRESS/LOG → RESULT, with reconnects in between, until the
 * job's deadline. Resolves with the outcome, or undefined when the shard was abandoned.
 */
export const runHostJob = async (run: HostJobRun, deps: JobDeps): Promise<HostJobOutcome | undefined> => {
  const { store } = deps;
  const logger = deps.logger.child({ jobId: run.spec.jobId, hostId: run.spec.hostId });
  const fin = { ...deps, logger };
  let job = run.job ?? (await createJob(store, run));
  if (isTerminalJobState(job.state)) return outcomeOf(job);
  const host = await (deps.hosts ? deps.hosts.find(run.spec.hostId) : store.hosts.find(run.spec.hostId));
  if (!host) {
    const message = `host '${run.spec.hostId}' is not registered`;
    return outcomeOf(
      await finishJob(job, 'failed', { error: jobError(RELAY_ERROR_CODES.unknownHost, message) }, fin),
    );
  }
  if (host.protocol === 'legacy') return runLegacyJob(job, host, run, fin);
  const claim = await claimJob(store, job, deps.relayId);
  job = claim.job;
  if (isTerminalJobState(job.state)) return outcomeOf(job);
  if (!claim.claimed) logger.info({ state: job.state }, 're-attaching to a job already dispatched');
  const watcher = new JobWatcher(job, host, run, { ...deps, logger }, claim.claimed ? 'job' : 'attach');
  return watcher.run();
};

type Ending =
  | { to: 'succeeded'; result: Record<string, unknown> }
  | { to: 'failed' | 'timed_out'; code: string; message: string };

/** Streams one v2 job: the agent's frames become store writes, in order, rate-bounded. */
class JobWatcher {
  #job: Job;
  readonly #host: Host;
  readonly #run: HostJobRun;
  readonly #deps: JobDeps;
  #mode: 'job' | 'attach';
  #acked: boolean;
  #writes: Promise<unknown> = Promise.resolve();
  #seq: number;
  #pendingProgress: Extract<JobFrame, { type: 'PROGRESS' }> | undefined;
  #logBuffer: string[] = [];
  #activityTimer: NodeJS.Timeout | undefined;
  #lastActivityAt = 0;
  /** The job's log as this watcher's last write left it: the next write needs no read. */
  #activityCursor: JobActivityCursor | undefined;
  #runningTimer: NodeJS.Timeout | undefined;
  /** When the agent ACKed, for the end write when no `running` write was made. */
  #ackedAt: string | undefined;

  constructor(job: Job, host: Host, run: HostJobRun, deps: JobDeps, mode: 'job' | 'attach') {
    this.#job = job;
    this.#host = host;
    this.#run = run;
    this.#deps = deps;
    this.#mode = mode;
    this.#acked = job.state === 'running';
    this.#seq = job.progressSeq;
  }

  async run(): Promise<HostJobOutcome | undefined> {
    const deadline = AbortSignal.timeout(this.#run.timeoutMs);
    const stop = AbortSignal.any([deadline, this.#run.signal]);
    let ending: Ending | undefined;
    let lastError: unknown;
    let connection: AgentConnection | undefined;
    while (!ending && !stop.aborted) {
      try {
        connection = await this.#deps.pool.acquire(this.#host, stop);
      } catch (error) {
        if (stop.aborted) break;
        lastError = error;
        if (isPermanentConnectError(error)) {
          const { code, message } = describe(error);
          ending = {
            to: 'failed',
            code,
            message: `cannot talk to the agent on ${this.#host.id}: ${message}`,
          };
        }
        continue;
      }
      const heard = await this.#watch(connection, stop);
      if (heard.kind === 'closed') {
        lastError = heard.reason;
        this.#mode = 'attach';
        // An agent that keeps dropping the session must not turn this loop into a busy one.
        await sleep(RECONNECT_PAUSE_MS, stop).catch(() => undefined);
        continue;
      }
      if (heard.kind === 'stopped') break;
      const result = heard.result;
      if (result.ok) ending = { to: 'succeeded', result: asRecord(result.result) };
      else if (result.error.code === 'E_UNKNOWN_JOB' && this.#mode === 'attach' && !this.#acked) {
        // Claimed by a relay that died before the JOB reached the agent: send it now.
        this.#mode = 'job';
      } else ending = { to: 'failed', code: result.error.code, message: result.error.message };
    }
    this.#stopTimers();
    if (!ending) {
      if (this.#run.signal.aborted) {
        this.#deps.logger.info('shard abandoned; the job stays as it is for the next relay to re-attach');
        return undefined;
      }
      if (connection?.isOpen && this.#acked)
        connection.send({ type: 'CANCEL', jobId: this.#job.id }).catch(() => {});
      const why = lastError ? `; last error: ${describe(lastError).message}` : '';
      ending = {
        to: 'timed_out',
        code: RELAY_ERROR_CODES.timeout,
        message: `no result from ${this.#host.id} within ${this.#run.timeoutMs / 1000} s${why}`,
      };
    }
    // Lines still buffered go in before the end state; a last progress report would be stale by then.
    this.#pendingProgress = undefined;
    this.#flushActivity();
    await this.#writes.catch(() => undefined);
    const ended = await finishJob(
      this.#job,
      ending.to,
      {
        ...(ending.to === 'succeeded'
          ? { result: ending.result }
          : { error: jobError(ending.code, ending.message) }),
        ...(this.#ackedAt ? { startedAt: this.#ackedAt } : {}),
      },
      this.#deps,
    );
    this.#deps.logger.info({ state: ended.state, code: ended.error?.code }, 'job ended');
    return outcomeOf(ended);
  }

  /** Sends JOB or ATTACH on this session and waits for the RESULT, the session's end, or the stop signal. */
  #watch(
    connection: AgentConnection,
    stop: AbortSignal,
  ): Promise<
    | { kind: 'result'; result: Extract<JobFrame, { type: 'RESULT' }> }
    | { kind: 'closed'; reason: unknown }
    | { kind: 'stopped' }
  > {
    const jobId = this.#job.id;
    return new Promise((resolve) => {
      const settle = (value: Parameters<typeof resolve>[0]) => {
        unlisten();
        stop.removeEventListener('abort', onStop);
        resolve(value);
      };
      const onStop = () => settle({ kind: 'stopped' });
      const unlisten = connection.listen(jobId, {
        frame: (message) => {
          if (message.type === 'RESULT') settle({ kind: 'result', result: message });
          else this.#onFrame(message);
        },
        closed: (reason) =>
          settle({ kind: 'closed', reason: reason ?? new ProtocolError('E_CLOSED', 'session closed') }),
      });
      stop.addEventListener('abort', onStop, { once: true });
      const message =
        this.#mode === 'job'
          ? ({ type: 'JOB', jobId, action: this.#job.action, params: this.#job.params } as const)
          : ({ type: 'ATTACH', jobId } as const);
      connection.send(message).catch((reason: unknown) => {
        this.#deps.pool.discard(this.#host.id, connection);
        settle({ kind: 'closed', reason });
      });
    });
  }

  #onFrame(message: JobFrame): void {
    if (message.type === 'ACK') {
      if (this.#acked) return;
      this.#acked = true;
      this.#ackedAt = new Date().toISOString();
      this.#runningTimer = setTimeout(() => this.#writeRunning(), RUNNING_WRITE_AFTER_MS);
    } else if (message.type === 'PROGRESS') {
      this.#pendingProgress = message;
      this.#scheduleActivity();
    } else if (message.type === 'LOG') {
      // The record keeps only the tail, so older buffered lines are dropped here already.
      this.#logBuffer.push(...message.lines.slice(-LOG_TAIL_LINES));
      if (this.#logBuffer.length > LOG_TAIL_LINES)
        this.#logBuffer.splice(0, this.#logBuffer.length - LOG_TAIL_LINES);
      this.#scheduleActivity();
    }
  }

  #scheduleActivity(): void {
    if (this.#activityTimer) return;
    const wait = this.#lastActivityAt + ACTIVITY_EVERY_MS - Date.now();
    if (wait <= 0) this.#flushActivity();
    else this.#activityTimer = setTimeout(() => this.#flushActivity(), wait);
  }

  #writeRunning(): void {
    this.#runningTimer = undefined;
    this.#write(async () => {
      if (this.#job.state === 'dispatched' || this.#job.state === 'queued') {
        try {
          this.#job = await this.#deps.store.jobs.transition(this.#job.id, 'running');
        } catch (error) {
          if (!(error instanceof StateConflictError)) throw error;
        }
      }
    });
  }

  #flushActivity(): void {
    clearTimeout(this.#activityTimer);
    this.#activityTimer = undefined;
    const frame = this.#pendingProgress;
    const lines = this.#logBuffer.splice(0);
    this.#pendingProgress = undefined;
    if (!frame && lines.length === 0) return;
    this.#lastActivityAt = Date.now();
    const progress = frame
      ? {
          seq: ++this.#seq,
          report: {
            phase: frame.phase,
            ...(frame.bytes !== undefined ? { bytes: frame.bytes } : {}),
            ...(frame.total !== undefined ? { total: frame.total } : {}),
          },
        }
      : undefined;
    const activity = { ...(progress ? { progress } : {}), ...(lines.length > 0 ? { lines } : {}) };
    this.#write(async () => {
      try {
        const written = await this.#deps.store.jobs.recordActivity(
          this.#job.id,
          activity,
          this.#activityCursor,
        );
        this.#activityCursor = written.cursor;
      } catch (error) {
        // The next write reads the record again rather than trust what this one assumed.
        this.#activityCursor = undefined;
        throw error;
      }
    });
  }

  /** Store writes of one job run one after another, so `running` lands before the end state. */
  #write(work: () => Promise<unknown>): void {
    this.#writes = this.#writes.then(work).catch((error: unknown) => {
      this.#deps.logger.warn({ err: error }, 'a job progress write failed; the next one carries on');
    });
  }

  #stopTimers(): void {
    clearTimeout(this.#activityTimer);
    this.#activityTimer = undefined;
    clearTimeout(this.#runningTimer);
    this.#runningTimer = undefined;
  }
}

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value: value ?? null };
