import { afterEach, describe, expect, it } from 'vitest';
import { encodeRawFrame } from './frame.js';
import { buildHello, decodePlainFrame, encodePlainFrame } from './handshake.js';
import { MESSAGE_TYPES, type Message, type MessageOf } from './messages.js';
import {
  createHarness,
  first,
  HOST,
  OLD_SECRET,
  RawClient,
  SECRET,
  startFrameProxy,
} from './test-support.js';

const { startAgent, connect, startMute, defer, cleanup } = createHarness();
afterEach(cleanup);

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
    defer(() => proxy.close());
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

  it('refuses identities that could not cross the wire, before connecting', async () => {
    await expect(connect(1, { hostId: 'host 1' })).rejects.toMatchObject({ code: 'E_CONFIG' });
    await expect(connect(1, { secret: 'short' })).rejects.toMatchObject({ code: 'E_CONFIG' });
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
    const port = await startMute(
      encodePlainFrame({ type: 'ERROR', code: 'E_VERSION', message: 'v3 only', supported: [3] }),
    );
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

  it('reports a frame cut off by the close', async () => {
    const agent = await startAgent();
    const raw = await RawClient.connect(agent.listener.port);
    const hello = encodePlainFrame(buildHello(HOST, 'relay-1', Buffer.alloc(32, 3)));
    raw.socket.end(hello.subarray(0, 40));
    expect(await agent.nextError()).toMatchObject({ code: 'E_BAD_FRAME' });
  });

  it('times out a client that never speaks', async () => {
    const agent = await startAgent([SECRET], { handshakeTimeoutMs: 150 });
    const raw = await RawClient.connect(agent.listener.port);
    expect(await agent.nextError()).toMatchObject({ code: 'E_TIMEOUT' });
    expect(await raw.untilClosed()).toEqual([]);
  });

  it('times out on the client when the agent never answers', async () => {
    const port = await startMute();
    await expect(connect(port, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('stops when the abort signal fires', async () => {
    const port = await startMute();
    const controller = new AbortController();
    const connecting = connect(port, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(connecting).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});
