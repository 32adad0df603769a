/**
 * Drives a real `gsm agent` process: spawns it from source (tsx resolved from the repository),
 * waits for its "agent listening" log line, and talks to it through the protocol library only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentConfigInput } from '../../agent/config.js';
import { connectAgent, type Message, type MessageOf, type Session } from '../../protocol/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
export const GSM_ARGS = ['--import', TSX, join(ROOT, 'cli/entry.ts')];

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every JSON log line so far. */
  logs(): Record<string, unknown>[];
  output(): string;
  readonly exited: Promise<number | null>;
}

export const writeAgentConfig = async (dir: string, config: AgentConfigInput): Promise<string> => {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'agent.json');
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
};

/** Starts `gsm agent --config FILE`; resolves once it listens (or rejects with its output). */
export const spawnAgent = async (configFile: string, timeoutMs = 20_000): Promise<AgentProcess> => {
  const child = spawn(process.execPath, [...GSM_ARGS, 'agent', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GSM_AGENT_SECRET: '' },
  });
  let output = '';
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start in time:\n${output}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        try {
          const json = JSON.parse(line) as Record<string, unknown>;
          lines.push(json);
          if (json.msg === 'agent listening') {
            clearTimeout(timer);
            resolvePort(json.port as number);
          }
        } catch {
          // Not a log line.
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code} before listening:\n${output}`));
    });
  });
  return { child, port, logs: () => lines, output: () => output, exited };
};

export interface JobOutcome {
  readonly ack: MessageOf<'ACK'> | undefined;
  readonly progress: MessageOf<'PROGRESS'>[];
  readonly logs: string[];
  readonly result: MessageOf<'RESULT'>;
}

type JobMessage = MessageOf<'ACK' | 'PROGRESS' | 'LOG' | 'RESULT'>;

/** A session with a reader that routes frames to whoever waits for them. */
export class AgentClient {
  readonly session: Session;
  readonly #jobs = new Map<string, JobMessage[]>();
  readonly #listeners = new Set<() => void>();
  readonly #statuses: MessageOf<'STATUS_REPLY'>[] = [];
  #ended = false;

  private constructor(session: Session) {
    this.session = session;
    void this.#read();
  }

  static async connect(
    port: number,
    options: { hostId?: string; secret?: string; clientId?: string } = {},
  ): Promise<AgentClient> {
    const session = await connectAgent({
      host: '127.0.0.1',
      port,
      hostId: options.hostId ?? 'host-1',
      clientId: options.clientId ?? 'test-relay',
      secret: options.secret ?? AGENT_SECRET,
      timeoutMs: 5000,
    });
    return new AgentClient(session);
  }

  async #read(): Promise<void> {
    try {
      for await (const message of this.session) this.#route(message);
    } catch {
      // The test looks at session.closed when it cares.
    }
    this.#ended = true;
    this.#wake();
  }

  #route(message: Message): void {
    if (message.type === 'STATUS_REPLY') this.#statuses.push(message);
    else if ('jobId' in message) {
      const list = this.#jobs.get(message.jobId) ?? [];
      list.push(message as JobMessage);
      this.#jobs.set(message.jobId, list);
    }
    this.#wake();
  }

  #wake(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  async #until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (this.#ended) throw new Error(`session ended while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          listeners.delete(done);
          wake();
        }
        const listeners = this.#listeners;
        listeners.add(done);
      });
    }
  }

  messages(jobId: string): JobMessage[] {
    return this.#jobs.get(jobId) ?? [];
  }

  async status(timeoutMs = 3000): Promise<Record<string, unknown>> {
    const before = this.#statuses.length;
    await this.session.send({ type: 'STATUS' });
    const reply = await this.#until(() => this.#statuses[before], timeoutMs, 'STATUS_REPLY');
    return reply.status;
  }

  send(message: Message): Promise<void> {
    return this.session.send(message);
  }

  /** Waits for a job frame matching `probe`. */
  waitFor(jobId: string, probe: (m: JobMessage) => boolean, timeoutMs = 15_000): Promise<JobMessage> {
    return this.#until(() => this.messages(jobId).find(probe), timeoutMs, `a frame of job ${jobId}`);
  }

  /** Sends a JOB and waits for its RESULT. */
  async job(
    jobId: string,
    action: string,
    params: Record<string, unknown> = {},
    timeoutMs = 30_000,
  ): Promise<JobOutcome> {
    await this.session.send({ type: 'JOB', jobId, action, params });
    return this.outcome(jobId, timeoutMs);
  }

  async outcome(jobId: string, timeoutMs = 30_000): Promise<JobOutcome> {
    const result = (await this.waitFor(jobId, (m) => m.type === 'RESULT', timeoutMs)) as MessageOf<'RESULT'>;
    const all = this.messages(jobId);
    return {
      ack: all.find((m): m is MessageOf<'ACK'> => m.type === 'ACK'),
      progress: all.filter((m): m is MessageOf<'PROGRESS'> => m.type === 'PROGRESS'),
      logs: all.filter((m): m is MessageOf<'LOG'> => m.type === 'LOG').flatMap((m) => m.lines),
      result,
    };
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

export const AGENT_SECRET = 'agent-test-secret-0123456789abcdef';

/** The result of an ok RESULT, or a failure that shows the agent's error. */
export const okResult = <T = Record<string, unknown>>(outcome: JobOutcome): T => {
  if (!outcome.result.ok) {
    throw new Error(
      `job ${outcome.result.jobId} failed: ${outcome.result.error.code} ${outcome.result.error.message}`,
    );
  }
  return outcome.result.result as T;
};

export const errorOf = (outcome: JobOutcome): { code: string; message: string } => {
  if (outcome.result.ok)
    throw new Error(`job ${outcome.result.jobId} succeeded: ${JSON.stringify(outcome.result.result)}`);
  return outcome.result.error;
};

/** Running, and not a zombie: an orphaned game server's zombie may linger under a container's pid 1. */
export const processAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
