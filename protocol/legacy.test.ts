import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LegacyJobMismatchError } from './errors.js';
import { encodeLegacyJob, legacyAnswer, runLegacyCommand } from './legacy.js';
import { type LegacyAgent, type LegacyAgentOptions, startLegacyAgent } from './legacy-server.js';

const KEY = 'legacy-key-1';
const agents: LegacyAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
});

const start = async (options: Partial<LegacyAgentOptions> = {}) => {
  const agent = await startLegacyAgent({ key: KEY, ...options });
  agents.push(agent);
  return agent;
};

describe('legacyAnswer', () => {
  it('is md5(key + first 20 nonce characters) in hex, from index 10', () => {
    const nonce = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123';
    const digest = createHash('md5').update(`${KEY}ABCDEFGHIJKLMNOPQRST`).digest('hex');
    expect(legacyAnswer(KEY, nonce)).toBe(digest.slice(10));
    expect(legacyAnswer(KEY, nonce)).toHaveLength(22);
    expect(legacyAnswer(KEY, nonce)).toBe(legacyAnswer(KEY, `${nonce.slice(0, 20)}zzzzzzzzzz`));
  });

  it('encodes a job as u16 1, u32 job id, u32 length, command', () => {
    expect(encodeLegacyJob(0x01020304, 'st').toString('hex')).toBe('0001' + '01020304' + '00000002' + '7374');
  });
});

describe('runLegacyCommand', () => {
  it.each(['st', 'sp', 'ai'] as const)('delivers %s and returns the acknowledged job id', async (command) => {
    // Prepare
    const agent = await start();

    // Act
    const result = await runLegacyCommand({
      host: '127.0.0.1',
      port: agent.port,
      key: KEY,
      jobId: 4242,
      command,
    });

    // Assess
    expect(result).toEqual({ accepted: true, jobId: 4242 });
    expect(agent.commands).toEqual([{ jobId: 4242, command }]);
  });

  it('handles the largest u32 job id', async () => {
    const agent = await start();
    const result = await runLegacyCommand({
      host: '127.0.0.1',
      port: agent.port,
      key: KEY,
      jobId: 0xffffffff,
      command: 'sp',
    });
    expect(result.jobId).toBe(0xffffffff);
  });

  it('is rejected by the agent when the key is wrong', async () => {
    const agent = await start();
    await expect(
      runLegacyCommand({ host: '127.0.0.1', port: agent.port, key: 'not-the-key', jobId: 1, command: 'st' }),
    ).rejects.toMatchObject({ code: 'E_LEGACY_REJECTED' });
    expect(agent.commands).toEqual([]);
    expect(agent.rejected()).toBe(1);
  });

  it('times out when the agent never acknowledges', async () => {
    const agent = await start({ behavior: 'silent' });
    await expect(
      runLegacyCommand({
        host: '127.0.0.1',
        port: agent.port,
        key: KEY,
        jobId: 1,
        command: 'st',
        timeoutMs: 150,
      }),
    ).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('reports a wrong job id echoed back', async () => {
    const agent = await start({ behavior: 'wrong-job-id' });
    const failure = runLegacyCommand({
      host: '127.0.0.1',
      port: agent.port,
      key: KEY,
      jobId: 7,
      command: 'st',
    });
    await expect(failure).rejects.toBeInstanceOf(LegacyJobMismatchError);
    await expect(failure).rejects.toMatchObject({ code: 'E_LEGACY_JOB_MISMATCH', expected: 7, received: 8 });
  });

  it('reports a reply of the wrong type', async () => {
    const agent = await start({ behavior: 'bad-reply-type' });
    await expect(
      runLegacyCommand({ host: '127.0.0.1', port: agent.port, key: KEY, jobId: 7, command: 'st' }),
    ).rejects.toMatchObject({ code: 'E_LEGACY_BAD_REPLY' });
  });

  it('reports a connection closed before the nonce', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await expect(
      runLegacyCommand({ host: '127.0.0.1', port, key: KEY, jobId: 1, command: 'st' }),
    ).rejects.toMatchObject({
      code: 'E_CLOSED',
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it('reports a refused connection', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    await expect(
      runLegacyCommand({ host: '127.0.0.1', port, key: KEY, jobId: 1, command: 'st' }),
    ).rejects.toMatchObject({
      code: 'E_CLOSED',
    });
  });

  it.each([
    { name: 'a job id past u32', jobId: 2 ** 32, command: 'st' },
    { name: 'a negative job id', jobId: -1, command: 'st' },
    { name: 'an unknown command', jobId: 1, command: 'rm' },
  ])('refuses $name before connecting', async ({ jobId, command }) => {
    await expect(
      runLegacyCommand({ host: '127.0.0.1', port: 1, key: KEY, jobId, command: command as 'st' }),
    ).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});
