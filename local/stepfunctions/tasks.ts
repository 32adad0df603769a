import { randomBytes } from 'node:crypto';
import { MAX_TIMER_SECONDS } from './definition.js';
import { SfnError, type TimeoutErrorName } from './errors.js';

/** How a parked task learns what happened to it; each hook is called at most once, and only one of them ends it. */
export interface TaskHooks {
  started?(workerName: string | undefined): void;
  succeeded(output: string): void;
  failed(error: string | undefined, cause: string | undefined): void;
  timedOut(error: TimeoutErrorName): void;
}

export interface OpenTask {
  readonly executionArn: string;
  /** Set for activity tasks: the task waits in this activity's queue for GetActivityTask. */
  readonly activityArn?: string;
  readonly input?: string;
  readonly timeoutSeconds?: number;
  readonly heartbeatSeconds?: number;
  readonly hooks: TaskHooks;
}

interface LiveTask extends OpenTask {
  readonly token: string;
  timeoutTimer?: NodeJS.Timeout;
  heartbeatTimer?: NodeJS.Timeout;
}

export interface ActivityTask {
  readonly taskToken: string;
  readonly input: string;
}

interface Waiter {
  readonly workerName: string | undefined;
  readonly deliver: (task: LiveTask | undefined) => void;
}

interface ActivityQueue {
  readonly pending: LiveTask[];
  readonly waiters: Waiter[];
}

/** AWS tokens are opaque base64 strings starting "AQ"; ours have that look and a fixed length. */
const TOKEN_PREFIX = 'AQCEAAAAKgAAAA';
const TOKEN_SHAPE = /^AQCEAAAAKgAAAA[A-Za-z0-9+/]{128}$/;
/** Closed tokens are remembered so a late call gets TaskTimedOut; bounded so a long dev session cannot grow without end. */
const MAX_CLOSED_TOKENS = 100_000;

const newToken = (): string => `${TOKEN_PREFIX}${randomBytes(96).toString('base64')}`;

const seconds = (value: number): number => Math.min(value, MAX_TIMER_SECONDS) * 1000;

/** Task tokens, their timers and the activity queues. Knows nothing of history: the hooks record that. */
export class TaskRegistry {
  private readonly live = new Map<string, LiveTask>();
  private readonly closed = new Set<string>();
  private readonly queues = new Map<string, ActivityQueue>();

  /** Registers a task and arms its TimeoutSeconds timer; activity tasks are queued for a worker. */
  open(task: OpenTask): string {
    const live: LiveTask = { ...task, token: newToken() };
    this.live.set(live.token, live);
    if (task.timeoutSeconds !== undefined) {
      live.timeoutTimer = setTimeout(() => this.expire(live, 'States.Timeout'), seconds(task.timeoutSeconds));
    }
    if (task.activityArn) this.enqueue(task.activityArn, live);
    return live.token;
  }

  isOpen(token: string): boolean {
    return this.live.has(token);
  }

  /** Starts (or restarts) the heartbeat clock; AWS runs it from the moment the work is handed out. */
  armHeartbeat(token: string): void {
    const task = this.live.get(token);
    if (!task || task.heartbeatSeconds === undefined) return;
    clearTimeout(task.heartbeatTimer);
    task.heartbeatTimer = setTimeout(
      () => this.expire(task, 'States.HeartbeatTimeout'),
      seconds(task.heartbeatSeconds),
    );
  }

  succeed(token: string, output: string): void {
    const task = this.take(token);
    this.close(task);
    task.hooks.succeeded(output);
  }

  fail(token: string, error: string | undefined, cause: string | undefined): void {
    const task = this.take(token);
    this.close(task);
    task.hooks.failed(error, cause);
  }

  heartbeat(token: string): void {
    this.armHeartbeat(this.take(token).token);
  }

  /** Ends a task without calling its hooks (the caller records why), so its token answers TaskTimedOut from now on. */
  discard(token: string): void {
    const task = this.live.get(token);
    if (task) this.close(task);
  }

  /** Drops every open token of a finished execution: workers holding them get TaskTimedOut. */
  closeExecution(executionArn: string): void {
    for (const task of [...this.live.values()]) {
      if (task.executionArn === executionArn) this.close(task);
    }
  }

  /**
   * Long poll of GetActivityTask. Resolves with a task as soon as one is queued, or with
   * undefined after `waitMs`, when `signal` aborts (client gone) or when the registry shuts down.
   */
  poll(
    activityArn: string,
    workerName: string | undefined,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<ActivityTask | undefined> {
    const queue = this.queueOf(activityArn);
    const next = queue.pending.shift();
    if (next) return Promise.resolve(this.handOut(next, workerName));
    return new Promise((resolve) => {
      const finish = (task: LiveTask | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const index = queue.waiters.indexOf(waiter);
        if (index >= 0) queue.waiters.splice(index, 1);
        resolve(task ? this.handOut(task, workerName) : undefined);
      };
      const waiter: Waiter = { workerName, deliver: finish };
      const onAbort = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined), waitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      queue.waiters.push(waiter);
    });
  }

  /** Ends every long poll (empty answers) and every timer: the server is closing. */
  shutdown(): void {
    for (const queue of this.queues.values()) {
      for (const waiter of [...queue.waiters]) waiter.deliver(undefined);
    }
    for (const task of [...this.live.values()]) this.close(task);
  }

  private handOut(task: LiveTask, workerName: string | undefined): ActivityTask {
    this.armHeartbeat(task.token);
    task.hooks.started?.(workerName);
    return { taskToken: task.token, input: task.input ?? '{}' };
  }

  private enqueue(activityArn: string, task: LiveTask): void {
    const queue = this.queueOf(activityArn);
    const waiter = queue.waiters.shift();
    if (waiter) waiter.deliver(task);
    else queue.pending.push(task);
  }

  private queueOf(activityArn: string): ActivityQueue {
    let queue = this.queues.get(activityArn);
    if (!queue) {
      queue = { pending: [], waiters: [] };
      this.queues.set(activityArn, queue);
    }
    return queue;
  }

  private take(token: string): LiveTask {
    const task = this.live.get(token);
    if (task) return task;
    if (!TOKEN_SHAPE.test(token)) throw new SfnError('InvalidToken', "Invalid Token: 'Invalid token'");
    // AWS answers TaskTimedOut for any token whose task is closed: timed out, completed or its execution ended.
    if (this.closed.has(token))
      throw new SfnError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    throw new SfnError('TaskDoesNotExist', 'Task Does Not Exist');
  }

  private expire(task: LiveTask, error: TimeoutErrorName): void {
    if (!this.live.has(task.token)) return;
    this.close(task);
    task.hooks.timedOut(error);
  }

  private close(task: LiveTask): void {
    clearTimeout(task.timeoutTimer);
    clearTimeout(task.heartbeatTimer);
    this.live.delete(task.token);
    if (task.activityArn) {
      const pending = this.queues.get(task.activityArn)?.pending;
      const index = pending?.indexOf(task) ?? -1;
      if (pending && index >= 0) pending.splice(index, 1);
    }
    this.closed.add(task.token);
    if (this.closed.size > MAX_CLOSED_TOKENS) {
      const oldest = this.closed.values().next().value;
      if (oldest !== undefined) this.closed.delete(oldest);
    }
  }
}
