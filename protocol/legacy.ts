import { createHash } from 'node:crypto';
import net from 'node:net';
import { LegacyJobMismatchError, ProtocolError } from './errors.js';

/**
 * The original platform's agent protocol (DESIGN.md, "The legacy agent"), client side, for the
 * relay's legacy adapter. It has no integrity or confidentiality: use it only on networks the
 * old platform already trusted, and only until a host moves to v2.
 */
export const LEGACY_NONCE_LENGTH = 30;
export const LEGACY_NONCE_USED = 20;
export const LEGACY_ANSWER_LENGTH = 22;
export const LEGACY_JOB_TYPE = 1;
export const LEGACY_ACK_TYPE = 4;
export const LEGACY_COMMANDS = { start: 'st', stop: 'sp', autoInstall: 'ai' } as const;
export type LegacyCommand = (typeof LEGACY_COMMANDS)[keyof typeof LEGACY_COMMANDS];
const COMMANDS: readonly string[] = Object.values(LEGACY_COMMANDS);

/** md5(key + nonce[0:20]) as hex, from index 10: 22 characters. */
export const legacyAnswer = (key: string, nonce: string | Uint8Array): string => {
  const nonceBytes = typeof nonce === 'string' ? Buffer.from(nonce, 'latin1') : Buffer.from(nonce);
  return createHash('md5')
    .update(Buffer.concat([Buffer.from(key, 'utf8'), nonceBytes.subarray(0, LEGACY_NONCE_USED)]))
    .digest('hex')
    .slice(10);
};

/** `u16 type (1) | u32 jobId | u32 length | command`, all big-endian. */
export const encodeLegacyJob = (jobId: number, command: string): Buffer => {
  const body = Buffer.from(command, 'latin1');
  const head = Buffer.allocUnsafe(10);
  head.writeUInt16BE(LEGACY_JOB_TYPE, 0);
  head.writeUInt32BE(jobId, 2);
  head.writeUInt32BE(body.length, 6);
  return Buffer.concat([head, body]);
};

/** Reads exact byte counts off a socket, whatever the chunking; shared with the test agent. */
export class ByteReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #want: { count: number; resolve: (bytes: Buffer) => void; reject: (error: Error) => void } | undefined;
  #closed: Error | undefined;

  constructor(socket: net.Socket, onClose: () => Error) {
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      this.#check();
    });
    const close = () => {
      this.#closed ??= onClose();
      this.#check();
    };
    socket.on('close', close);
    socket.on('error', close);
  }

  read(count: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#want = { count, resolve, reject };
      this.#check();
    });
  }

  #check(): void {
    const want = this.#want;
    if (!want) return;
    if (this.#buffered >= want.count) {
      const all = Buffer.concat(this.#chunks);
      this.#chunks = [all.subarray(want.count)];
      this.#buffered -= want.count;
      this.#want = undefined;
      want.resolve(all.subarray(0, want.count));
    } else if (this.#closed) {
      this.#want = undefined;
      want.reject(this.#closed);
    }
  }
}

export interface LegacyCommandOptions {
  readonly host: string;
  readonly port: number;
  /** The host's legacy key (DESIGN: host `legacyKey`). */
  readonly key: string;
  /** u32: the legacy agent echoes it back. */
  readonly jobId: number;
  readonly command: LegacyCommand;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface LegacyCommandResult {
  readonly accepted: true;
  readonly jobId: number;
}

/**
 * Sends one command to a legacy agent and resolves once the agent acknowledges it (the agent
 * runs the command afterwards; the old protocol reports nothing more).
 */
export const runLegacyCommand = (options: LegacyCommandOptions): Promise<LegacyCommandResult> => {
  const { host, port, key, jobId, command } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(jobId) || jobId < 0 || jobId > 0xffff_ffff) {
    return Promise.reject(new ProtocolError('E_CONFIG', `legacy job ids are u32, got ${jobId}`));
  }
  if (!COMMANDS.includes(command)) {
    return Promise.reject(new ProtocolError('E_CONFIG', `unknown legacy command '${command}'`));
  }
  return new Promise<LegacyCommandResult>((resolve, reject) => {
    let stage: 'connect' | 'nonce' | 'ack' = 'connect';
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const finish = (error: Error | undefined, result?: LegacyCommandResult) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(result!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new ProtocolError(
            'E_TIMEOUT',
            `legacy agent ${host}:${port} did not answer within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    const onAbort = () => finish(new ProtocolError('E_ABORTED', 'legacy command aborted'));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const reader = new ByteReader(socket, () =>
      stage === 'ack'
        ? new ProtocolError(
            'E_LEGACY_REJECTED',
            `legacy agent ${host}:${port} closed the connection without acknowledging job ${jobId} (wrong key?)`,
          )
        : new ProtocolError(
            'E_CLOSED',
            `legacy agent ${host}:${port} closed the connection (during ${stage})`,
          ),
    );
    socket.once('error', (error) => {
      if (stage === 'connect') {
        finish(
          new ProtocolError('E_CLOSED', `cannot connect to legacy agent ${host}:${port}: ${error.message}`),
        );
      }
    });
    socket.once('connect', async () => {
      try {
        stage = 'nonce';
        const nonce = await reader.read(LEGACY_NONCE_LENGTH);
        socket.write(
          Buffer.concat([Buffer.from(legacyAnswer(key, nonce), 'latin1'), encodeLegacyJob(jobId, command)]),
        );
        stage = 'ack';
        const reply = await reader.read(6);
        const type = reply.readUInt16BE(0);
        const echoed = reply.readUInt32BE(2);
        if (type !== LEGACY_ACK_TYPE) {
          throw new ProtocolError(
            'E_LEGACY_BAD_REPLY',
            `legacy agent answered type ${type}, expected ${LEGACY_ACK_TYPE}`,
          );
        }
        if (echoed !== jobId) throw new LegacyJobMismatchError(jobId, echoed);
        finish(undefined, { accepted: true, jobId });
      } catch (error) {
        finish(error as Error);
      }
    });
  });
};
