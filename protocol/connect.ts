import type net from 'node:net';
import { type AgentSecret, FrameOpener, FrameSealer, generateNonce, secretBytes } from './auth.js';
import { ProtocolError } from './errors.js';
import {
  answerChallenge,
  buildChallenge,
  buildHello,
  decodePlainFrame,
  encodePlainFrame,
  errorFromPeer,
  readHello,
  sealReady,
  verifyAuth,
} from './handshake.js';
import { MESSAGE_TYPES, type MessageOf, PAYLOAD_SCHEMAS, PROTOCOL_VERSION } from './messages.js';
import { endSocket, FrameReader, refusePlain, Session, writeFrame } from './session.js';
import { createSocketServer, openSocket, type TlsClientOptions, type TlsServerOptions } from './tls.js';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ConnectAgentOptions {
  readonly host: string;
  readonly port: number;
  /** The agent we mean to reach: it must prove it holds this host's secret. */
  readonly hostId: string;
  /** Who we are (the relay's id); bound into the handshake. */
  readonly clientId: string;
  readonly secret: AgentSecret;
  readonly tls?: TlsClientOptions;
  /** Connect, TLS and handshake together. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly keepAliveMs?: number;
}

/** Races a step against the deadline and the abort signal; on either, the socket is destroyed. */
const guard = <T>(
  work: (onSocket: (socket: net.Socket) => void) => Promise<T>,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    let socket: net.Socket | undefined;
    let settled = false;
    const settle = (error: ProtocolError | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket?.destroy();
        reject(error);
      } else resolve(value as T);
    };
    const timer = setTimeout(
      () => settle(new ProtocolError('E_TIMEOUT', `${what} did not complete within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () =>
      settle(new ProtocolError('E_ABORTED', `${what} was aborted`, { cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work((opened) => {
      socket = opened;
      if (settled) opened.destroy();
    }).then(
      (value) => settle(undefined, value),
      (error: unknown) =>
        settle(
          error instanceof ProtocolError
            ? error
            : new ProtocolError('E_CLOSED', String(error), { cause: error }),
        ),
    );
  });

/** Connects to an agent, runs the mutual handshake and resolves with an authenticated session. */
export const connectAgent = async (options: ConnectAgentOptions): Promise<Session> => {
  secretBytes(options.secret);
  const hello = buildHello(options.hostId, options.clientId, generateNonce());
  const { type: _type, ...helloFields } = hello;
  if (!PAYLOAD_SCHEMAS.HELLO.safeParse(helloFields).success) {
    throw new ProtocolError('E_CONFIG', 'hostId and clientId must be 1-128 of [A-Za-z0-9._:@-]');
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  return guard(
    async (onSocket) => {
      const socket = await openSocket(options.host, options.port, options.tls);
      onSocket(socket);
      socket.setNoDelay(true);
      const reader = new FrameReader(socket);
      await writeFrame(socket, encodePlainFrame(hello));

      const reply = decodePlainFrame(await reader.next());
      if (reply.type === 'ERROR') throw errorFromPeer(reply);
      if (reply.type !== 'CHALLENGE')
        throw new ProtocolError('E_UNEXPECTED', `expected CHALLENGE, got ${reply.type}`);
      let answer: ReturnType<typeof answerChallenge>;
      try {
        answer = answerChallenge(hello, reply, options.secret);
      } catch (error) {
        refusePlain(socket, error as ProtocolError);
        throw error;
      }
      await writeFrame(socket, encodePlainFrame(answer.auth));

      const confirm = await reader.next();
      if (confirm.type === MESSAGE_TYPES.ERROR)
        throw errorFromPeer(decodePlainFrame(confirm) as MessageOf<'ERROR'>);
      if (confirm.type !== MESSAGE_TYPES.READY) throw new ProtocolError('E_UNEXPECTED', 'expected READY');
      const opener = new FrameOpener(answer.keys.serverToClient);
      opener.open(confirm);
      return new Session({
        socket,
        reader,
        sealer: new FrameSealer(answer.keys.clientToServer),
        opener,
        role: 'client',
        version: PROTOCOL_VERSION,
        hostId: options.hostId,
        clientId: options.clientId,
        keepAliveMs: options.keepAliveMs,
      });
    },
    timeoutMs,
    `handshake with ${options.hostId} at ${options.host}:${options.port}`,
    options.signal,
  );
};

export interface ListenOptions {
  readonly host?: string;
  readonly port?: number;
  readonly tls?: TlsServerOptions;
  readonly handshakeTimeoutMs?: number;
  readonly keepAliveMs?: number;
}

export interface HandshakeContext {
  readonly clientId: string;
  readonly remoteAddress: string | undefined;
}

export interface SessionHandlers {
  /** The secrets accepted for a host, current first; empty for a host this agent is not. */
  readonly secretsFor: (
    hostId: string,
    context: HandshakeContext,
  ) => readonly AgentSecret[] | Promise<readonly AgentSecret[]>;
  readonly onSession: (session: Session) => void;
  /** A connection that failed before becoming a session (bad secret, timeout, garbage). */
  readonly onError?: (error: ProtocolError, remoteAddress: string | undefined) => void;
}

export interface SessionListener {
  readonly port: number;
  readonly host: string;
  readonly server: net.Server;
  /** Stops listening and closes every live session. */
  close(): Promise<void>;
}

const serverHandshake = async (
  socket: net.Socket,
  reader: FrameReader,
  handlers: SessionHandlers,
  keepAliveMs: number | undefined,
): Promise<Session> => {
  let hello: MessageOf<'HELLO'>;
  try {
    hello = readHello(await reader.next());
  } catch (error) {
    if (error instanceof ProtocolError && error.code !== 'E_CLOSED') refusePlain(socket, error);
    throw error;
  }
  const context = { clientId: hello.clientId, remoteAddress: socket.remoteAddress };
  let secrets: readonly AgentSecret[];
  let built: ReturnType<typeof buildChallenge>;
  try {
    secrets = await handlers.secretsFor(hello.hostId, context);
    built = buildChallenge(hello, secrets, generateNonce());
  } catch (cause) {
    // A store outage or a malformed secret is ours to fix: the peer learns only that it failed.
    const error = new ProtocolError('E_INTERNAL', 'the agent could not load its secrets', { cause });
    refusePlain(socket, error);
    throw error;
  }
  if (secrets.length === 0) {
    const error = new ProtocolError('E_AUTH_FAILED', `this agent does not serve host '${hello.hostId}'`);
    refusePlain(socket, error);
    throw error;
  }
  const { challenge, transcript } = built;
  await writeFrame(socket, encodePlainFrame(challenge));

  const next = decodePlainFrame(await reader.next());
  if (next.type === 'ERROR') throw errorFromPeer(next);
  try {
    if (next.type !== 'AUTH') throw new ProtocolError('E_UNEXPECTED', `expected AUTH, got ${next.type}`);
    const { keys, secretIndex } = verifyAuth(transcript, secrets, next);
    const sealer = new FrameSealer(keys.serverToClient);
    await writeFrame(socket, sealReady(sealer));
    return new Session({
      socket,
      reader,
      sealer,
      opener: new FrameOpener(keys.clientToServer),
      role: 'server',
      version: hello.version,
      hostId: hello.hostId,
      clientId: hello.clientId,
      secretIndex,
      keepAliveMs,
    });
  } catch (error) {
    if (error instanceof ProtocolError && error.code !== 'E_CLOSED') refusePlain(socket, error);
    throw error;
  }
};

/** The agent side: listens, authenticates every connection, hands over sessions. */
export const acceptSessions = (
  options: ListenOptions,
  handlers: SessionHandlers,
): Promise<SessionListener> => {
  const sessions = new Set<Session>();
  const sockets = new Set<net.Socket>();
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const server = createSocketServer(options.tls, timeoutMs, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const remote = socket.remoteAddress;
    const reader = new FrameReader(socket);
    guard(
      async (onSocket) => {
        onSocket(socket);
        return serverHandshake(socket, reader, handlers, options.keepAliveMs);
      },
      timeoutMs,
      `handshake from ${remote ?? 'unknown peer'}`,
    ).then(
      (session) => {
        sessions.add(session);
        void session.closed.then(() => sessions.delete(session));
        try {
          handlers.onSession(session);
        } catch (cause) {
          const error = new ProtocolError('E_INTERNAL', 'the session handler failed', { cause });
          void session.close(error);
          handlers.onError?.(error, remote);
        }
      },
      (error: ProtocolError) => {
        endSocket(socket);
        handlers.onError?.(error, remote);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        host: address.address,
        server,
        close: async () => {
          const closing = new Promise<void>((done) => server.close(() => done()));
          await Promise.all([...sessions].map((session) => session.close()));
          for (const socket of sockets) socket.destroy();
          await closing;
        },
      });
    });
  });
};
