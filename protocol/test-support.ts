import net from 'node:net';
import { FrameDecoder, type RawFrame } from './frame.js';

/**
 * Test-only plumbing (not exported from index.ts): a man in the middle that can rewrite the
 * client-to-server frame stream, and a raw frame client for peers that misbehave on purpose.
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
