import type { Logger } from '../core/log.js';
import {
  type AgentSecret,
  acceptSessions,
  deriveAgentSecret,
  type Message,
  type Session,
  type SessionListener,
} from '../protocol/index.js';
import type { AgentConfig } from './config.js';
import type { JobRunner, JobSubscriber } from './server/jobs.js';

/**
 * Frame → action → reply, nothing more. Each authenticated session is read in a loop that
 * never waits for a job: JOB is journalled, ACKed and handed to the runner; STATUS is answered
 * at once from memory; ATTACH and CANCEL go to the runner. Refusals of a job travel as RESULT
 * errors and the session stays up; protocol violations end the session (the library sends ERROR).
 */
export interface ListenerDeps {
  readonly config: AgentConfig;
  readonly jobs: JobRunner;
  /** The STATUS_REPLY body: instant, from memory, no game queries. */
  readonly status: () => Record<string, unknown>;
  /** The instance a job names, for the journal (undefined for host-level jobs). */
  readonly instanceOf: (params: Record<string, unknown>) => string | undefined;
  readonly logger: Logger;
}

/** Secrets accepted for this host, current first: at most two during a rotation. */
export const secretsFor = (config: AgentConfig): readonly AgentSecret[] => {
  const { secrets, hostId } = config;
  if ('master' in secrets) {
    return [secrets.master, secrets.previousMaster]
      .filter((s): s is string => s !== undefined)
      .map((master) => deriveAgentSecret(master, hostId));
  }
  return [secrets.current, secrets.previous].filter((s): s is string => s !== undefined);
};

const subscriberFor = (session: Session, logger: Logger): JobSubscriber => ({
  send: (message: Message) => {
    if (session.isClosed) return;
    session.send(message).catch((error: unknown) => {
      logger.debug({ err: error, type: message.type }, 'could not send to a closed session');
    });
  },
});

const serve = async (session: Session, deps: ListenerDeps): Promise<void> => {
  const logger = deps.logger.child({ clientId: session.clientId, remote: session.remoteAddress });
  const subscriber = subscriberFor(session, logger);
  logger.info({ secretIndex: session.secretIndex }, 'session opened');
  if (session.secretIndex !== undefined && session.secretIndex > 0) {
    logger.warn('client authenticated with the previous secret; finish the rotation');
  }
  try {
    for await (const message of session) {
      switch (message.type) {
        case 'STATUS':
          subscriber.send({ type: 'STATUS_REPLY', status: deps.status() });
          break;
        case 'JOB': {
          const job = { jobId: message.jobId, action: message.action, params: message.params };
          // Not awaited: the next frame (a STATUS, a CANCEL) must not wait for a journal fsync.
          void deps.jobs.submit(subscriber, job, deps.instanceOf(message.params));
          break;
        }
        case 'ATTACH':
          deps.jobs.attach(subscriber, message.jobId);
          break;
        case 'CANCEL':
          deps.jobs.cancel(subscriber, message.jobId);
          break;
        default:
          logger.warn({ type: message.type }, 'ignoring a message only an agent sends');
      }
    }
    logger.info('session closed');
  } catch (error) {
    logger.warn({ err: error }, 'session ended with a protocol error');
  } finally {
    deps.jobs.unsubscribe(subscriber);
  }
};

/** Listens on `config.listen`, authenticates every connection, serves each session. */
export const startListener = (deps: ListenerDeps): Promise<SessionListener> => {
  const { config, logger } = deps;
  const secrets = secretsFor(config);
  return acceptSessions(
    {
      host: config.listen.host,
      port: config.listen.port,
      tls: config.tls ? { cert: config.tls.cert, key: config.tls.key } : undefined,
      handshakeTimeoutMs: config.handshakeTimeoutSec * 1000,
      keepAliveMs: 30_000,
    },
    {
      secretsFor: (hostId) => (hostId === config.hostId ? secrets : []),
      onSession: (session) => void serve(session, deps),
      onError: (error, remote) =>
        logger.warn({ code: error.code, remote, reason: error.message }, 'connection refused'),
    },
  );
};
