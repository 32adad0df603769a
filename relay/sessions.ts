import type { Logger } from '../core/log.js';
import type { Host } from '../core/model/index.js';
import {
  type AgentSecret,
  connectAgent,
  deriveAgentSecret,
  type Message,
  type MessageOf,
  ProtocolError,
  type Session,
  type TlsClientOptions,
} from '../protocol/index.js';

/** Frames about one job: what a job watcher listens to. */
export type JobFrame = MessageOf<'ACK' | 'PROGRESS' | 'LOG' | 'RESULT'>;

export interface JobListener {
  frame(message: JobFrame): void;
  /** The session under this listener ended; the watcher reconnects and ATTACHes. */
  closed(reason: ProtocolError | undefined): void;
}

/**
 * One authenticated session to one agent with a single reader that routes frames by job id,
 * so any number of jobs (and the monitor's STATUS probes) share it.
 */
export class AgentConnection {
  readonly hostId: string;
  readonly session: Session;
  readonly #jobs = new Map<string, Set<JobListener>>();
  readonly #statusWaiters: ((status: Record<string, unknown> | ProtocolError) => void)[] = [];
  lastUsed = Date.now();

  constructor(hostId: string, session: Session, logger: Logger) {
    this.hostId = hostId;
    this.session = session;
    void this.#read(logger);
  }

  get isOpen(): boolean {
    return !this.session.isClosed;
  }

  get busy(): boolean {
    return this.#jobs.size > 0 || this.#statusWaiters.length > 0;
  }

  listen(jobId: string, listener: JobListener): () => void {
    const set = this.#jobs.get(jobId) ?? new Set<JobListener>();
    set.add(listener);
    this.#jobs.set(jobId, set);
    this.lastUsed = Date.now();
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#jobs.get(jobId) === set) this.#jobs.delete(jobId);
    };
  }

  send(message: Message): Promise<void> {
    this.lastUsed = Date.now();
    return this.session.send(message);
  }

  /** STATUS → STATUS_REPLY. Replies come back in order, so waiters are a FIFO. */
  status(timeoutMs: number): Promise<Record<string, unknown>> {
    this.lastUsed = Date.now();
    return new Promise((resolve, reject) => {
      let done = false;
      const waiter = (reply: Record<string, unknown> | ProtocolError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (reply instanceof ProtocolError) reject(reply);
        else resolve(reply);
      };
      const timer = setTimeout(() => {
        // The FIFO keeps its slot: a late reply must still pair with this request, not the next.
        done = true;
        reject(new ProtocolError('E_TIMEOUT', `no STATUS_REPLY from ${this.hostId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#statusWaiters.push(waiter);
      this.session.send({ type: 'STATUS' }).catch((error: unknown) => {
        waiter(error instanceof ProtocolError ? error : new ProtocolError('E_CLOSED', String(error)));
      });
    });
  }

  close(): Promise<void> {
    return this.session.close();
  }

  async #read(logger: Logger): Promise<void> {
    let reason: ProtocolError | undefined;
    try {
      for await (const message of this.session) {
        if (message.type === 'STATUS_REPLY') this.#statusWaiters.shift()?.(message.status);
        else if (
          message.type === 'ACK' ||
          message.type === 'PROGRESS' ||
          message.type === 'LOG' ||
          message.type === 'RESULT'
        ) {
          for (const listener of [...(this.#jobs.get(message.jobId) ?? [])]) listener.frame(message);
        } else logger.debug({ type: message.type }, 'ignoring a message only a relay sends');
      }
      reason = await this.session.closed;
    } catch (error) {
      reason = error instanceof ProtocolError ? error : new ProtocolError('E_CLOSED', String(error));
    }
    const closed = reason ?? new ProtocolError('E_CLOSED', 'the session closed');
    for (const waiter of this.#statusWaiters.splice(0)) waiter(closed);
    for (const set of [...this.#jobs.values()]) for (const listener of [...set]) listener.closed(reason);
    this.#jobs.clear();
  }
}

export interface SessionPoolOptions {
  readonly relayId: string;
  readonly masterSecret: string;
  readonly connectTimeoutMs: number;
  readonly tls?: TlsClientOptions;
  readonly logger: Logger;
  /** Sessions nobody used for this long are closed by `sweepIdle`. */
  readonly idleMs?: number;
}

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 10_000;
const KEEPALIVE_MS = 30_000;

/** Failures a retry cannot fix: the relay and the agent disagree on who is who. */
export const isPermanentConnectError = (error: unknown): boolean =>
  error instanceof ProtocolError &&
  (error.code === 'E_AUTH_FAILED' ||
    error.code === 'E_VERSION' ||
    error.code === 'E_TLS' ||
    error.code === 'E_CONFIG');

interface HostState {
  connection?: AgentConnection;
  connecting?: Promise<AgentConnection>;
  failures: number;
  retryAt: number;
  lastError?: unknown;
}

/**
 * One session per host, reused by every job and probe for that host. Connecting is shared (two
 * jobs for one host wait on the same handshake); after a failure the next attempt waits an
 * exponential backoff, so a dead host costs one connect per backoff period, not one per caller.
 */
export class SessionPool {
  readonly #options: SessionPoolOptions;
  readonly #hosts = new Map<string, HostState>();
  readonly #secrets = new Map<string, AgentSecret>();
  #closed = false;

  constructor(options: SessionPoolOptions) {
    this.#options = options;
  }

  secretFor(hostId: string): AgentSecret {
    let secret = this.#secrets.get(hostId);
    if (secret === undefined) {
      secret = deriveAgentSecret(this.#options.masterSecret, hostId);
      this.#secrets.set(hostId, secret);
    }
    return secret;
  }

  /** The host's open session, or a new one; waits out the backoff of a recent failure first. */
  async acquire(host: Pick<Host, 'id' | 'address' | 'port'>, signal?: AbortSignal): Promise<AgentConnection> {
    if (this.#closed) throw new ProtocolError('E_ABORTED', 'the relay is stopping');
    const state = this.#hosts.get(host.id) ?? { failures: 0, retryAt: 0 };
    this.#hosts.set(host.id, state);
    if (state.connection?.isOpen) return state.connection;
    if (state.connecting) return state.connecting;
    const wait = state.retryAt - Date.now();
    if (wait > 0) await sleep(wait, signal);
    if (state.connection?.isOpen) return state.connection;
    state.connecting ??= this.#connect(host, state, signal).finally(() => {
      state.connecting = undefined;
    });
    return state.connecting;
  }

  /** Drops a session that misbehaved, so the next acquire reconnects. */
  discard(hostId: string, connection: AgentConnection): void {
    const state = this.#hosts.get(hostId);
    if (state?.connection === connection) state.connection = undefined;
    void connection.close();
  }

  /** Closes sessions idle past `idleMs` (no jobs, no probes): a fleet need not hold every socket forever. */
  sweepIdle(): void {
    const idleMs = this.#options.idleMs ?? 5 * 60_000;
    const now = Date.now();
    for (const state of this.#hosts.values()) {
      const connection = state.connection;
      if (connection && !connection.busy && now - connection.lastUsed > idleMs) {
        state.connection = undefined;
        void connection.close();
      }
    }
  }

  get size(): number {
    let open = 0;
    for (const state of this.#hosts.values()) if (state.connection?.isOpen) open += 1;
    return open;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#hosts.values()].flatMap((s) => (s.connection ? [s.connection] : []));
    this.#hosts.clear();
    await Promise.all(open.map((connection) => connection.close().catch(() => undefined)));
  }

  async #connect(
    host: Pick<Host, 'id' | 'address' | 'port'>,
    state: HostState,
    signal: AbortSignal | undefined,
  ): Promise<AgentConnection> {
    const { relayId, connectTimeoutMs, tls, logger } = this.#options;
    try {
      const session = await connectAgent({
        host: host.address,
        port: host.port,
        hostId: host.id,
        clientId: relayId,
        secret: this.secretFor(host.id),
        timeoutMs: connectTimeoutMs,
        keepAliveMs: KEEPALIVE_MS,
        ...(tls ? { tls } : {}),
        ...(signal ? { signal } : {}),
      });
      const connection = new AgentConnection(host.id, session, logger.child({ hostId: host.id }));
      if (this.#closed) {
        void connection.close();
        throw new ProtocolError('E_ABORTED', 'the relay is stopping');
      }
      state.connection = connection;
      state.failures = 0;
      state.retryAt = 0;
      return connection;
    } catch (error) {
      if (!(error instanceof ProtocolError && error.code === 'E_ABORTED')) {
        state.failures += 1;
        state.lastError = error;
        const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (state.failures - 1));
        state.retryAt = Date.now() + backoff * (0.5 + Math.random() / 2);
      }
      throw error;
    }
  }
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ProtocolError('E_ABORTED', 'aborted'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProtocolError('E_ABORTED', 'aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
