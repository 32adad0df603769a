/**
 * Agents for the relay's tests and bench, all real peers on 127.0.0.1:
 * - `startScriptedAgent`: a protocol-v2 agent built on `acceptSessions` whose job timing and
 *   faults are scripted (slow jobs, failures, a dropped session mid-job). It keeps a journal
 *   like the real agent: a job id seen before is answered `ACK duplicate` and never run twice,
 *   ATTACH gets the live stream or the recorded RESULT.
 * - `startSilentAgent`: accepts TCP connections and never says a word.
 * - `startRealAgent`: the real `gsm agent` code (agent/main.ts) in this process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAgentConfig } from '../../agent/config.js';
import { type RunningAgent, startAgent } from '../../agent/main.js';
import { createLogger } from '../../core/log.js';
import {
  acceptSessions,
  deriveAgentSecret,
  type Message,
  type MessageOf,
  type Session,
} from '../../protocol/index.js';

export const MASTER_SECRET = 'relay-test-master-secret-0123456789';

export interface ScriptedAgentOptions {
  readonly hostId: string;
  /** The secret it accepts; derived from MASTER_SECRET by default. */
  readonly secret?: string;
  readonly jobMs?: number;
  /** Actions answered with RESULT ok:false E_GAME_FAILED. */
  readonly failActions?: readonly string[];
  /** Close the session this long into the first job it runs (the job itself keeps running). */
  readonly dropSessionAfterMs?: number;
  readonly port?: number;
  /** Shared by several agents: how many of their jobs run at once, and the peak. */
  readonly tracker?: InFlightTracker;
}

export interface InFlightTracker {
  now: number;
  peak: number;
}

interface JournalEntry {
  readonly jobId: string;
  result?: MessageOf<'RESULT'>;
  readonly subscribers: Set<Session>;
  lastProgress?: MessageOf<'PROGRESS'>;
}

export interface ScriptedAgent {
  readonly hostId: string;
  readonly port: number;
  /** Every JOB frame received, in order (re-sent ids included). */
  readonly jobFrames: string[];
  readonly attaches: string[];
  /** Job ids actually run: each at most once. */
  readonly runs: string[];
  readonly duplicates: string[];
  readonly sessions: () => number;
  maxInFlight(): number;
  close(): Promise<void>;
}

const send = (session: Session, message: Message) => {
  if (!session.isClosed) session.send(message).catch(() => undefined);
};

export const startScriptedAgent = async (options: ScriptedAgentOptions): Promise<ScriptedAgent> => {
  const secret = options.secret ?? deriveAgentSecret(MASTER_SECRET, options.hostId);
  const journal = new Map<string, JournalEntry>();
  const jobFrames: string[] = [];
  const attaches: string[] = [];
  const runs: string[] = [];
  const duplicates: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let sessions = 0;
  let dropped = false;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const broadcast = (entry: JournalEntry, message: Message) => {
    for (const session of entry.subscribers) send(session, message);
  };
  const attach = (session: Session, jobId: string) => {
    const entry = journal.get(jobId);
    if (!entry) {
      send(session, {
        type: 'RESULT',
        jobId,
        ok: false,
        error: { code: 'E_UNKNOWN_JOB', message: `this agent has no record of job ${jobId}` },
      });
      return;
    }
    if (entry.result) send(session, entry.result);
    else {
      if (entry.lastProgress) send(session, entry.lastProgress);
      entry.subscribers.add(session);
    }
  };
  const run = (session: Session, job: MessageOf<'JOB'>) => {
    const entry: JournalEntry = { jobId: job.jobId, subscribers: new Set([session]) };
    journal.set(job.jobId, entry);
    runs.push(job.jobId);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const tracker = options.tracker;
    if (tracker) {
      tracker.now += 1;
      tracker.peak = Math.max(tracker.peak, tracker.now);
    }
    send(session, { type: 'ACK', jobId: job.jobId, status: 'accepted' });
    entry.lastProgress = { type: 'PROGRESS', jobId: job.jobId, phase: job.action };
    broadcast(entry, entry.lastProgress);
    broadcast(entry, { type: 'LOG', jobId: job.jobId, lines: [`${job.action} on ${options.hostId}`] });
    if (options.dropSessionAfterMs !== undefined && !dropped) {
      dropped = true;
      later(options.dropSessionAfterMs, () => void session.close());
    }
    later(options.jobMs ?? 20, () => {
      inFlight -= 1;
      if (options.tracker) options.tracker.now -= 1;
      entry.result = options.failActions?.includes(job.action)
        ? {
            type: 'RESULT',
            jobId: job.jobId,
            ok: false,
            error: { code: 'E_GAME_FAILED', message: `${job.action} failed` },
          }
        : {
            type: 'RESULT',
            jobId: job.jobId,
            ok: true,
            result: { action: job.action, hostId: options.hostId },
          };
      broadcast(entry, entry.result);
      entry.subscribers.clear();
    });
  };

  const listener = await acceptSessions(
    { host: '127.0.0.1', port: options.port ?? 0, keepAliveMs: 30_000 },
    {
      secretsFor: (hostId) => (hostId === options.hostId ? [secret] : []),
      onSession: (session) => {
        sessions += 1;
        void (async () => {
          try {
            for await (const message of session) {
              if (message.type === 'STATUS') {
                send(session, {
                  type: 'STATUS_REPLY',
                  status: {
                    hostId: options.hostId,
                    agentVersion: 'scripted-1',
                    instances: {
                      main: {
                        state: 'running',
                        version: '1.0.0',
                        players: 3,
                        maxPlayers: 16,
                        map: 'mp_crash',
                      },
                    },
                  },
                });
              } else if (message.type === 'JOB') {
                jobFrames.push(message.jobId);
                if (journal.has(message.jobId)) {
                  duplicates.push(message.jobId);
                  send(session, { type: 'ACK', jobId: message.jobId, status: 'duplicate' });
                  attach(session, message.jobId);
                } else run(session, message);
              } else if (message.type === 'ATTACH') {
                attaches.push(message.jobId);
                attach(session, message.jobId);
              }
            }
          } catch {
            // A broken session is the relay's problem to notice.
          }
          for (const entry of journal.values()) entry.subscribers.delete(session);
        })();
      },
    },
  );
  return {
    hostId: options.hostId,
    port: listener.port,
    jobFrames,
    attaches,
    runs,
    duplicates,
    sessions: () => sessions,
    maxInFlight: () => maxInFlight,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await listener.close();
    },
  };
};

/** Accepts connections and never answers: the handshake (and so the job) can only time out. */
export const startSilentAgent = async (): Promise<{
  port: number;
  connections: () => number;
  close(): Promise<void>;
}> => {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

export interface RealAgent {
  readonly hostId: string;
  readonly port: number;
  readonly agent: RunningAgent;
  close(): Promise<void>;
}

/** The real agent code with one demo-game instance (stopped), its own data folder, journal and port. */
export const startRealAgent = async (
  hostId: string,
  options: { gamePort?: number } = {},
): Promise<RealAgent> => {
  const dataDir = await mkdtemp(join(tmpdir(), `gsm-agent-${hostId}-`));
  const config = await parseAgentConfig(
    {
      hostId,
      listen: { host: '127.0.0.1', port: 0 },
      secrets: { master: MASTER_SECRET },
      dataDir,
      instances: [{ name: 'main', game: 'demo', port: options.gamePort ?? 28960 }],
      logLevel: 'silent',
    },
    { env: {} },
  );
  const agent = await startAgent(config, createLogger('agent', { level: 'silent' }).child({ hostId }));
  return {
    hostId,
    port: agent.port,
    agent,
    close: async () => {
      await agent.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
};
