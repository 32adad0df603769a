import { afterEach, describe, expect, it } from 'vitest';
import { acceptSessions, type ConnectAgentOptions } from './connect.js';
import { ProtocolError } from './errors.js';
import type { Message } from './messages.js';
import { createHarness, drain, first, startFrameProxy } from './test-support.js';

const { startAgent, connect, defer, cleanup } = createHarness();
afterEach(cleanup);

const job: Message = { type: 'JOB', jobId: 'job-1', action: 'start', params: { instance: 'main' } };

describe('an established session', () => {
  /** Connects through a proxy that rewrites client-to-server frames; 0 and 1 are HELLO and AUTH. */
  const throughProxy = async (
    rewrite: Parameters<typeof startFrameProxy>[1],
    overrides: Partial<ConnectAgentOptions> = {},
  ) => {
    const agent = await startAgent();
    const proxy = await startFrameProxy(agent.listener.port, rewrite);
    defer(() => proxy.close());
    const client = await connect(proxy.port, overrides);
    const server = await agent.nextSession();
    return { client, server };
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
    const unserializable: Message = { type: 'JOB', jobId: 'job-2', action: 'start', params: { n: 1n } };
    await expect(client.send(unserializable)).rejects.toMatchObject({ code: 'E_BAD_MESSAGE' });
    const huge: Message = { type: 'LOG', jobId: 'job-3', lines: ['x'.repeat(1024 * 1024)] };
    await expect(client.send(huge)).rejects.toMatchObject({ code: 'E_FRAME_TOO_LARGE' });
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

  it('keeps an idle session alive with pings', async () => {
    const agent = await startAgent();
    const client = await connect(agent.listener.port, { keepAliveMs: 40 });
    await agent.nextSession();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(client.isClosed).toBe(false);
  });

  it('closes a session whose peer stops answering', async () => {
    // Prepare: after the handshake, nothing the client sends (its PINGs) reaches the agent.
    const { client } = await throughProxy((_all, index, frame) => (index < 2 ? [frame] : []), {
      keepAliveMs: 50,
    });

    // Act
    const reason = await client.closed;

    // Assess
    expect(reason).toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('tells the peer why when closed with an error', async () => {
    const agent = await startAgent();
    const client = await connect(agent.listener.port);
    const server = await agent.nextSession();
    await server.close(new ProtocolError('E_INTERNAL', 'agent shutting down'));
    expect(await client.closed).toMatchObject({ code: 'E_INTERNAL', remoteMessage: 'agent shutting down' });
  });

  it('reports E_INTERNAL to the client when the agent cannot load its secrets', async () => {
    const listener = await acceptSessions(
      { port: 0 },
      {
        secretsFor: () => Promise.reject(new Error('store down')),
        onSession: () => undefined,
      },
    );
    defer(() => listener.close());
    await expect(connect(listener.port)).rejects.toMatchObject({ code: 'E_INTERNAL' });
  });
});
