/**
 * A peer that authenticates properly and then sends what the library would refuse to send
 * (a JOB whose action is a shell command line), to see what the agent does with it.
 */
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
