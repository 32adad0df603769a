import net from 'node:net';
import type { AgentSecret } from './auth.js';
import { acceptSessions, type ConnectAgentOptions, connectAgent, type SessionListener } from './connect.js';
import type { ProtocolError } from './errors.js';
import { FrameDecoder, type RawFrame } from './frame.js';
import type { Message } from './messages.js';
import type { Session } from './session.js';

/**
 * Test-only plumbing (not exported from index.ts): agents and clients that clean up after
 * themselves, a man in the middle that can rewrite the client-to-server frame stream, and a
 * raw frame client for peers that misbehave on purpose.
 */
export interface Proxy {
  readonly port: number;
  close(): Promise<void>;
}

/** Forwards both directions; client-to-server frames pass through `rewrite` (by index). */
export const startFrameProxy = async (
  targetPort: number,
  rewrite: (frames: Buffer[], index: number, frame: Buffer) => Buffer[],
): Promise<Proxy> => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    const decoder = new FrameDecoder();
    const seen: Buffer[] = [];
    client.on('data', (chunk) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame; frame = decoder.next()) {
        const bytes = rawBytes(frame);
        seen.push(bytes);
        for (const out of rewrite(seen, seen.length - 1, bytes)) upstream.write(out);
      }
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

export const rawBytes = (frame: RawFrame): Buffer => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(frame.body.length + 1, 0);
  head.writeUInt8(frame.type, 4);
  return Buffer.concat([head, frame.body]);
};

/** A client that writes whatever bytes it is given and reads frames back. */
export class RawClient {
  readonly socket: net.Socket;
  readonly #decoder = new FrameDecoder();
  readonly #frames: RawFrame[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.#decoder.push(chunk);
      for (let frame = this.#decoder.next(); frame; frame = this.#decoder.next()) this.#frames.push(frame);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next frame, or undefined once the peer has closed. */
  async next(): Promise<RawFrame | undefined> {
    for (;;) {
      const frame = this.#frames.shift();
      if (frame) return frame;
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Resolves when the peer closes, with every frame it sent before. */
  async untilClosed(): Promise<RawFrame[]> {
    const frames: RawFrame[] = [];
    for (let frame = await this.next(); frame; frame = await this.next()) frames.push(frame);
    return frames;
  }
}

export const SECRET = 'current-secret-0123456789abcdef';
export const OLD_SECRET = 'previous-secret-0123456789abcdef';
export const HOST = 'host-1';

export interface Agent {
  readonly listener: SessionListener;
  nextSession(): Promise<Session>;
  nextError(): Promise<ProtocolError>;
}

/** A queue that hands out items in arrival order, whether they come before or after the ask. */
const queue = <T>() => {
  const items: T[] = [];
  const waiting: ((item: T) => void)[] = [];
  return {
    push: (item: T) => {
      const waiter = waiting.shift();
      if (waiter) waiter(item);
      else items.push(item);
    },
    next: () =>
      new Promise<T>((resolve) => {
        const item = items.shift();
        if (item !== undefined) resolve(item);
        else waiting.push(resolve);
      }),
  };
};

/** Agents and clients on 127.0.0.1 that `cleanup()` (run it in afterEach) closes again. */
export const createHarness = () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  const defer = (cleanup: () => Promise<unknown>) => cleanups.push(cleanup);

  const startAgent = async (
    secrets: readonly AgentSecret[] = [SECRET],
    options: { handshakeTimeoutMs?: number } = {},
  ): Promise<Agent> => {
    const sessions = queue<Session>();
    const errors = queue<ProtocolError>();
    const listener = await acceptSessions(
      { host: '127.0.0.1', port: 0, ...options },
      {
        secretsFor: (hostId) => (hostId === HOST ? secrets : []),
        onSession: (session) => sessions.push(session),
        onError: (error) => errors.push(error),
      },
    );
    defer(() => listener.close());
    return { listener, nextSession: sessions.next, nextError: errors.next };
  };

  const connect = async (port: number, overrides: Partial<ConnectAgentOptions> = {}): Promise<Session> => {
    const session = await connectAgent({
      host: '127.0.0.1',
      port,
      hostId: HOST,
      clientId: 'relay-1',
      secret: SECRET,
      timeoutMs: 5000,
      ...overrides,
    });
    defer(() => session.close());
    return session;
  };

  /** A server that never speaks; `answer` is written to each connection if given. */
  const startMute = async (answer?: Buffer): Promise<number> => {
    const server = net.createServer((socket) => {
      socket.resume();
      if (answer) socket.end(answer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    defer(() => new Promise((resolve) => server.close(resolve)));
    return (server.address() as net.AddressInfo).port;
  };

  const cleanup = async () => {
    await Promise.all(cleanups.splice(0).map((run) => run()));
  };
  return { startAgent, connect, startMute, defer, cleanup };
};

export const first = async (session: Session): Promise<Message> => {
  for await (const message of session) return message;
  throw new Error('session ended without a message');
};

export const drain = async (session: Session): Promise<{ messages: Message[]; error: unknown }> => {
  const messages: Message[] = [];
  try {
    for await (const message of session) messages.push(message);
    return { messages, error: undefined };
  } catch (error) {
    return { messages, error };
  }
};
