import { randomBytes } from 'node:crypto';
import net from 'node:net';
import {
  ByteReader,
  LEGACY_ACK_TYPE,
  LEGACY_ANSWER_LENGTH,
  LEGACY_JOB_TYPE,
  LEGACY_NONCE_LENGTH,
  legacyAnswer,
} from './legacy.js';

/**
 * The agent side of the legacy protocol, over real TCP, for tests (this file's and the relay's
 * legacy adapter's) and `gsm dev`'s legacy demo host. Not exported from index.ts: production
 * never plays the legacy agent.
 */
export type LegacyAgentBehavior = 'faithful' | 'silent' | 'wrong-job-id' | 'bad-reply-type';

export interface LegacyAgentOptions {
  readonly key: string;
  readonly host?: string;
  readonly port?: number;
  /** Fault injection for the client's error paths; `faithful` by default. */
  readonly behavior?: LegacyAgentBehavior;
}

export interface ReceivedLegacyCommand {
  readonly jobId: number;
  readonly command: string;
}

export interface LegacyAgent {
  readonly port: number;
  readonly commands: ReceivedLegacyCommand[];
  /** Connections refused because the answer to the nonce was wrong. */
  readonly rejected: () => number;
  close(): Promise<void>;
}

const MAX_COMMAND_BYTES = 1024;
const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const makeNonce = (): string =>
  Array.from(randomBytes(LEGACY_NONCE_LENGTH), (byte) => NONCE_ALPHABET[byte % NONCE_ALPHABET.length]).join(
    '',
  );

export const startLegacyAgent = async (options: LegacyAgentOptions): Promise<LegacyAgent> => {
  const behavior = options.behavior ?? 'faithful';
  const commands: ReceivedLegacyCommand[] = [];
  const sockets = new Set<net.Socket>();
  let rejected = 0;

  const serve = async (socket: net.Socket) => {
    const reader = new ByteReader(socket, () => new Error('closed'));
    const nonce = makeNonce();
    socket.write(nonce, 'latin1');
    const answer = (await reader.read(LEGACY_ANSWER_LENGTH)).toString('latin1');
    if (answer !== legacyAnswer(options.key, nonce)) {
      rejected += 1;
      socket.destroy();
      return;
    }
    const head = await reader.read(10);
    const type = head.readUInt16BE(0);
    const jobId = head.readUInt32BE(2);
    const length = head.readUInt32BE(6);
    if (type !== LEGACY_JOB_TYPE || length > MAX_COMMAND_BYTES) {
      socket.destroy();
      return;
    }
    const command = (await reader.read(length)).toString('latin1');
    commands.push({ jobId, command });
    if (behavior === 'silent') return;
    const reply = Buffer.alloc(6);
    reply.writeUInt16BE(behavior === 'bad-reply-type' ? 7 : LEGACY_ACK_TYPE, 0);
    reply.writeUInt32BE(behavior === 'wrong-job-id' ? (jobId + 1) >>> 0 : jobId, 2);
    socket.end(reply);
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    rejected: () => rejected,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
