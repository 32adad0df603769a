import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentSecret } from './auth.js';
import { acceptSessions, type ConnectAgentOptions, connectAgent, type SessionListener } from './connect.js';
import type { ProtocolError } from './errors.js';
import { encodeRawFrame } from './frame.js';
import { buildHello, decodePlainFrame, encodePlainFrame } from './handshake.js';
import { MESSAGE_TYPES, type Message, type MessageOf } from './messages.js';
import type { Session } from './session.js';
import { RawClient, startFrameProxy } from './test-support.js';

const SECRET = 'current-secret-0123456789abcdef';
const OLD_SECRET = 'previous-secret-0123456789abcdef';
const HOST = 'host-1';

interface Agent {
  readonly listener: SessionListener;
  nextSession(): Promise<Session>;
  nextError(): Promise<ProtocolError>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

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
  cleanups.push(() => listener.close());
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
  cleanups.push(() => session.close());
  return session;
};

const first = async (session: Session): Promise<Message> => {
  for await (const message of session) return message;
  throw new Error('session ended without a message');
};

const job: Message = { type: 'JOB', jobId: 'job-1', action: 'start', params: { instance: 'main' } };

describe('handshake', () => {
  it('authenticates both sides and carries messages both ways', async () => {
    // Prepare
    const agent = await startAgent();

    // Act
    const client = await connect(agent.listener.port);
    const server = await agent.nextSession();
    await client.send(job);
    const received = await first(server);
    await server.send({ type: 'ACK', jobId: 'job-1', status: 'accepted' });
    const ack = await first(client);

    // Assess
    expect(received).toEqual(job);
    expect(ack).toEqual({ type: 'ACK', jobId: 'job-1', status: 'accepted' });
    expect(server).toMatchObject({ hostId: HOST, clientId: 'relay-1', secretIndex: 0, version: 2 });
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
  });

  it('fails on the client when the client holds the wrong secret', async () => {
    const agent = await startAgent();
    await expect(
      connect(agent.listener.port, { secret: 'wrong-secret-0123456789abcdef' }),
    ).rejects.toMatchObject({
      code: 'E_AUTH_FAILED',
    });
    // The client refused the agent's proof, so the agent sees an ERROR from the client.
    expect(await agent.nextError()).toMatchObject({ code: 'E_AUTH_FAILED' });
  });

  it('fails on the client when the agent holds the wrong secret', async () => {
    const agent = await startAgent(['agent-has-another-secret-0123']);
    await expect(connect(agent.listener.port)).rejects.toMatchObject({ code: 'E_AUTH_FAILED' });
  });

  it('fails on the agent when a client that skips verification sends a wrong proof', async () => {
    // Prepare
    const agent = await startAgent();
    const raw = await RawClient.connect(agent.listener.port);

    // Act
    raw.write(encodePlainFrame(buildHello(HOST, 'mallory', Buffer.alloc(32, 1))));
    await raw.next();
    raw.write(encodePlainFrame({ type: 'AUTH', proof: 'ab'.repeat(32) }));
    const frames = await raw.untilClosed();

    // Assess
    expect(frames.map(decodePlainFrame)).toEqual([
      expect.objectContaining({ type: 'ERROR', code: 'E_AUTH_FAILED' }),
    ]);
    expect(await agent.nextError()).toMatchObject({ code: 'E_AUTH_FAILED' });
  });

  it('rejects the agent’s own proof reflected back as the client’s', async () => {
    const agent = await startAgent();
    const raw = await RawClient.connect(agent.listener.port);
    raw.write(encodePlainFrame(buildHello(HOST, 'mallory', Buffer.alloc(32, 2))));
    const challenge = decodePlainFrame((await raw.next())!) as MessageOf<'CHALLENGE'>;
    raw.write(encodePlainFrame({ type: 'AUTH', proof: challenge.proofs[0]! }));
    expect((await raw.untilClosed()).map(decodePlainFrame)).toEqual([
      expect.objectContaining({ type: 'ERROR', code: 'E_AUTH_FAILED' }),
    ]);
  });

  it('rejects a recorded handshake replayed on a new connection', async () => {
    // Prepare: record the client's HELLO and AUTH of a genuine session.
    const agent = await startAgent();
    const recorded: Buffer[] = [];
    const proxy = await startFrameProxy(agent.listener.port, (_all, _index, frame) => {
      recorded.push(frame);
      return [frame];
    });
    cleanups.push(() => proxy.close());
    await connect(proxy.port);
    await agent.nextSession();

    // Act
    const raw = await RawClient.connect(agent.listener.port);
    raw.write(recorded[0]!);
    await raw.next();
    raw.write(recorded[1]!);

    // Assess
    expect((await raw.untilClosed()).map(decodePlainFrame)).toEqual([
      expect.objectContaining({ type: 'ERROR', code: 'E_AUTH_FAILED' }),
    ]);
  });

  it.each([
    { name: 'the new secret', secret: SECRET, index: 0 },
    { name: 'the previous secret', secret: OLD_SECRET, index: 1 },
  ])('accepts $name during a rotation', async ({ secret, index }) => {
    const agent = await startAgent([SECRET, OLD_SECRET]);
    await connect(agent.listener.port, { secret });
    expect((await agent.nextSession()).secretIndex).toBe(index);
  });

  it('rejects a secret that is neither during a rotation', async () => {
    const agent = await startAgent([SECRET, OLD_SECRET]);
    await expect(
      connect(agent.listener.port, { secret: 'some-other-secret-0123456789' }),
    ).rejects.toMatchObject({
      code: 'E_AUTH_FAILED',
    });
  });

  it('refuses a host the agent does not serve', async () => {
    const agent = await startAgent();
    await expect(connect(agent.listener.port, { hostId: 'host-2' })).rejects.toMatchObject({
      code: 'E_AUTH_FAILED',
    });
  });

  it.each([
    { name: 'version 3', payload: { version: 3, hostId: HOST, clientId: 'r', nonce: 'aa'.repeat(32) } },
    {
      name: 'a v3 HELLO with other fields',
      payload: { version: 3, offer: [3, 2], identity: { host: HOST } },
    },
    { name: 'version 1', payload: { version: 1 } },
  ])('answers $name with ERROR E_VERSION listing the supported versions', async ({ payload }) => {
    const agent = await startAgent();
    const raw = await RawClient.connect(agent.listener.port);
    raw.write(encodeRawFrame(MESSAGE_TYPES.HELLO, Buffer.from(JSON.stringify(payload))));
    expect((await raw.untilClosed()).map(decodePlainFrame)).toEqual([
      { type: 'ERROR', code: 'E_VERSION', message: expect.stringContaining('not supported'), supported: [2] },
    ]);
    expect(await agent.nextError()).toMatchObject({ code: 'E_VERSION', offered: payload.version });
  });

  it('reports E_VERSION on the client when the agent refuses its version', async () => {
    const server = net.createServer((socket) =>
      socket
        .resume()
        .end(encodePlainFrame({ type: 'ERROR', code: 'E_VERSION', message: 'v3 only', supported: [3] })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as net.AddressInfo).port;
    await expect(connect(port)).rejects.toMatchObject({ code: 'E_VERSION', supported: [3] });
  });

  it.each([
    { name: 'a JOB before the handshake', bytes: encodePlainFrame(job), code: 'E_UNEXPECTED' },
    {
      name: 'bad JSON in HELLO',
      bytes: encodeRawFrame(MESSAGE_TYPES.HELLO, Buffer.from('{"version":2,')),
      code: 'E_BAD_JSON',
    },
    {
      name: 'an oversize length',
      bytes: Buffer.from([0x00, 0x20, 0x00, 0x00, 0x01]),
      code: 'E_FRAME_TOO_LARGE',
    },
    { name: 'an unknown type', bytes: Buffer.from([0, 0, 0, 3, 0x99, 0x7b, 0x7d]), code: 'E_UNKNOWN_TYPE' },
  ])('answers $name with ERROR $code and closes', async ({ bytes, code }) => {
    const agent = await startAgent();
    const raw = await RawClient.connect(agent.listener.port);
    raw.write(bytes);
    expect((await raw.untilClosed()).map(decodePlainFrame)).toEqual([
      expect.objectContaining({ type: 'ERROR', code }),
    ]);
    expect(await agent.nextError()).toMatchObject({ code });
  });

  it('times out a client that never speaks', async () => {
    const agent = await startAgent([SECRET], { handshakeTimeoutMs: 150 });
    const raw = await RawClient.connect(agent.listener.port);
    expect(await agent.nextError()).toMatchObject({ code: 'E_TIMEOUT' });
    expect(await raw.untilClosed()).toEqual([]);
  });

  it('times out on the client when the agent never answers', async () => {
    const server = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as net.AddressInfo).port;
    await expect(connect(port, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('stops when the abort signal fires', async () => {
    const server = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as net.AddressInfo).port;
    const controller = new AbortController();
    const connecting = connect(port, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(connecting).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});

describe('an established session', () => {
  /** Connects through a proxy that rewrites client-to-server frames; 0 and 1 are HELLO and AUTH. */
  const throughProxy = async (rewrite: Parameters<typeof startFrameProxy>[1]) => {
    const agent = await startAgent();
    const proxy = await startFrameProxy(agent.listener.port, rewrite);
    cleanups.push(() => proxy.close());
    const client = await connect(proxy.port);
    const server = await agent.nextSession();
    return { client, server };
  };

  const drain = async (session: Session): Promise<{ messages: Message[]; error: unknown }> => {
    const messages: Message[] = [];
    try {
      for await (const message of session) messages.push(message);
      return { messages, error: undefined };
    } catch (error) {
      return { messages, error };
    }
  };

  it('closes on a tampered byte, and tells the client why', async () => {
    // Prepare
    const { client, server } = await throughProxy((_all, index, frame) => {
      if (index !== 2) return [frame];
      const tampered = Buffer.from(frame);
      tampered[tampered.length - 3] = tampered[tampered.length - 3]! ^ 0x01;
      return [tampered];
    });

    // Act
    await client.send(job);

    // Assess
    expect(await drain(server)).toEqual({
      messages: [],
      error: expect.objectContaining({ code: 'E_BAD_MAC' }),
    });
    expect(await client.closed).toMatchObject({ code: 'E_BAD_MAC', remoteCode: 'E_BAD_MAC' });
  });

  it('closes on a replayed frame after delivering the original once', async () => {
    const { client, server } = await throughProxy((_all, index, frame) =>
      index === 2 ? [frame, frame] : [frame],
    );
    await client.send(job);
    expect(await drain(server)).toEqual({
      messages: [job],
      error: expect.objectContaining({ code: 'E_REPLAY' }),
    });
  });

  it('closes on reordered frames', async () => {
    const { client, server } = await throughProxy((all, index, frame) =>
      index === 2 ? [] : index === 3 ? [frame, all[2]!] : [frame],
    );
    await client.send(job);
    await client.send({ type: 'CANCEL', jobId: 'job-1' });
    expect(await drain(server)).toEqual({
      messages: [],
      error: expect.objectContaining({ code: 'E_SEQUENCE' }),
    });
  });

  it('closes on a frame that claims more than 1 MiB, before its body arrives', async () => {
    const { client, server } = await throughProxy((_all, index, frame) =>
      index === 2 ? [Buffer.from([0x7f, 0xff, 0xff, 0xff])] : [frame],
    );
    await client.send(job);
    expect(await drain(server)).toEqual({
      messages: [],
      error: expect.objectContaining({ code: 'E_FRAME_TOO_LARGE' }),
    });
    expect(await client.closed).toMatchObject({ code: 'E_FRAME_TOO_LARGE' });
  });

  it('rejects an invalid outgoing message without closing', async () => {
    const agent = await startAgent();
    const client = await connect(agent.listener.port);
    const server = await agent.nextSession();
    const bad = { type: 'JOB', jobId: 'job 1', action: 'rm -rf /', params: {} } as Message;
    await expect(client.send(bad)).rejects.toMatchObject({ code: 'E_BAD_MESSAGE' });
    await client.send(job);
    expect(await first(server)).toEqual(job);
  });

  it('delivers a burst in order to a slow reader', async () => {
    const agent = await startAgent();
    const client = await connect(agent.listener.port);
    const server = await agent.nextSession();
    const lines = Array.from({ length: 200 }, (_, index) => `line ${index} ${'x'.repeat(2000)}`);
    const sending = (async () => {
      for (const [index, line] of lines.entries()) {
        await server.send({ type: 'LOG', jobId: `job-${index}`, lines: [line] });
      }
      await server.close();
    })();
    const received: string[] = [];
    for await (const message of client) {
      if (message.type === 'LOG') received.push(...message.lines);
      if (received.length % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await sending;
    expect(received).toEqual(lines);
  });

  it('ends the reader cleanly when the peer closes', async () => {
    const agent = await startAgent();
    const client = await connect(agent.listener.port);
    const server = await agent.nextSession();
    await server.close();
    expect(await drain(client)).toEqual({ messages: [], error: undefined });
    expect(await client.closed).toMatchObject({ code: 'E_CLOSED' });
    await expect(client.send(job)).rejects.toMatchObject({ code: 'E_CLOSED' });
  });

  it('answers keepalive pings and closes a silent peer', async () => {
    const agent = await startAgent();
    const client = await connect(agent.listener.port, { keepAliveMs: 40 });
    await agent.nextSession();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.isClosed).toBe(false);
  });
});
