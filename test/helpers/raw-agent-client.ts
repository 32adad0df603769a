/**
 * A peer that authenticates properly and then sends what the library would refuse to send
 * (a JOB whose action is a shell command line), to see what the agent does with it.
 */
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { FrameOpener, FrameSealer, generateNonce } from '../../protocol/auth.js';
import { answerChallenge, buildHello, decodePlainFrame, encodePlainFrame } from '../../protocol/handshake.js';
import type { AnyMessage } from '../../protocol/index.js';
import { RawClient } from '../../protocol/test-support.js';

export const sendUncheckedJob = async (
  port: number,
  secret: string,
  job: { jobId: string; action: string; params: Record<string, unknown> },
): Promise<{ reply: AnyMessage | undefined; closed: boolean }> => {
  const raw = await RawClient.connect(port);
  const hello = buildHello('host-1', 'raw-test', generateNonce());
  raw.write(encodePlainFrame(hello));
  const challenge = await raw.next();
  if (!challenge) throw new Error('agent closed during the handshake');
  const decoded = decodePlainFrame(challenge);
  if (decoded.type !== 'CHALLENGE') throw new Error(`expected CHALLENGE, got ${decoded.type}`);
  const { auth, keys } = answerChallenge(hello, decoded, secret);
  raw.write(encodePlainFrame(auth));
  const opener = new FrameOpener(keys.serverToClient);
  const ready = await raw.next();
  if (!ready || opener.open(ready).type !== 'READY') throw new Error('no READY');
  // FrameSealer does not validate: this is the frame a hostile or broken peer could send.
  raw.write(new FrameSealer(keys.clientToServer).seal({ type: 'JOB', ...job }));
  const frames = await raw.untilClosed();
  const first = frames[0];
  return { reply: first ? opener.open(first) : undefined, closed: true };
};

/** Connects, writes `bytes`, resolves with what came back once the agent closed. */
export const rawExchange = (port: number, bytes?: Buffer): Promise<{ reply: Buffer; ms: number }> =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ reply: Buffer.concat(chunks), ms: Date.now() - started }));
    socket.on('connect', () => {
      if (bytes) socket.write(bytes);
    });
    setTimeout(() => socket.destroy(new Error('agent kept the connection open')), 5000).unref();
  });

/** Serves half of `bytes`, then drops the connection and stops listening: a host that died. */
export const startDyingOrigin = async (bytes: Buffer): Promise<string> => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(bytes.length), etag: '"x"' });
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
      res.socket?.destroy();
      server.close();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/demo.tar.bz2`;
};

/** The code in a plain ERROR frame: u32 len, u8 0x0f, JSON. */
export const plainErrorCode = (reply: Buffer): string | undefined => {
  if (reply.length < 5 || reply[4] !== 0x0f) return undefined;
  return (JSON.parse(reply.subarray(5, 4 + reply.readUInt32BE(0)).toString('utf8')) as { code: string }).code;
};
